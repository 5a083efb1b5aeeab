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
