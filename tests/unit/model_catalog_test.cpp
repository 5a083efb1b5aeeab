// The models folder read from disk: ids by stem, split models as one, projectors skipped,
// models.json's settings attached, files still being written left for a later look.
#include "service/models/model_catalog.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/files.h"
#include "tests/support/temp_dir.h"

namespace tandem::models {
namespace {

void touch(const std::filesystem::path& file, std::size_t bytes) {
  write_file_atomically(file, std::string(bytes, 'x'));
}

TEST(ModelCatalog, ReadsTheFolder) {
  testing::TempDir dir;
  touch(dir / "qwen.gguf", 10);
  touch(dir / "big-00001-of-00002.gguf", 5);
  touch(dir / "big-00002-of-00002.gguf", 7);
  touch(dir / "half-00001-of-00003.gguf", 5);
  touch(dir / "mmproj-qwen.gguf", 3);
  touch(dir / "notes.txt", 3);
  touch(dir / "copying.gguf", 3);
  write_file_atomically(dir / "models.json", R"({"qwen": {"ctx_size": 4096, "aliases": ["q"]}})");
  const Catalog c = scan_models(
      dir.path(), [](const std::filesystem::path& p) { return p.filename() == "copying.gguf"; });
  ASSERT_EQ(c.entries.size(), 3u);
  EXPECT_EQ(c.entries[0].id, "big");
  EXPECT_EQ(c.entries[0].bytes, 12u);
  EXPECT_EQ(c.entries[0].file.filename(), "big-00001-of-00002.gguf");
  EXPECT_TRUE(c.entries[0].problem.empty());
  EXPECT_EQ(c.entries[1].id, "half");
  EXPECT_EQ(c.entries[1].problem, "split model with 1 of its 3 parts in the folder");
  EXPECT_EQ(c.entries[2].id, "qwen");
  EXPECT_EQ(c.entries[2].settings.ctx_size, 4096);
  EXPECT_EQ(c.entries[2].settings.aliases, std::vector<std::string>{"q"});
  EXPECT_EQ(c.skipped, std::vector<std::string>{"copying.gguf"});
}

TEST(ModelCatalog, AMissingFolderIsEmptyAndABadSettingsFileNamesItsField) {
  testing::TempDir dir;
  EXPECT_TRUE(scan_models(dir / "none").entries.empty());
  write_file_atomically(dir / "models.json", "{\n  \"qwen\": {\"parallel\": 0}\n}");
  try {
    scan_models(dir.path());
    FAIL();
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("models.json:2"), std::string::npos) << what;
    EXPECT_NE(what.find("parallel"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace tandem::models
