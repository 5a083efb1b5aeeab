#include "common/files.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "tests/support/temp_dir.h"

namespace tandem {
namespace {

TEST(Files, AtomicWriteReplacesWholeContentAndLeavesNoTemp) {
  testing::TempDir dir;
  auto file = dir / "state.json";
  write_file_atomically(file, "first");
  write_file_atomically(file, "second, longer");
  EXPECT_EQ(read_file(file), "second, longer");
  EXPECT_FALSE(std::filesystem::exists(dir / "state.json.tmp"));
}

// What stands in the way (a folder of that name, with something in it) is named with the rename's
// own reason, not the "Success" of cleaning up the temporary file after it; nothing is left.
TEST(Files, AReplaceThatFailsSaysWhyAndLeavesNoTemp) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir / "state.json" / "inside");
  try {
    write_file_atomically(dir / "state.json", "x");
    FAIL() << "replaced a folder";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cannot replace "), std::string::npos) << what;
    EXPECT_EQ(what.find("Success"), std::string::npos) << what;
    EXPECT_EQ(what.find("success"), std::string::npos) << what;
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "state.json.tmp"));
  EXPECT_TRUE(std::filesystem::is_directory(dir / "state.json" / "inside"));
}

TEST(Files, MissingFileIsNulloptOrANamedError) {
  testing::TempDir dir;
  EXPECT_FALSE(read_file_if_exists(dir / "nope").has_value());
  try {
    read_file(dir / "nope");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("nope: file not found"), std::string::npos) << e.what();
  }
}

TEST(Files, WriteIntoMissingFolderFailsClearly) {
  testing::TempDir dir;
  try {
    write_file_atomically(dir / "missing" / "x.json", "x");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tandem
