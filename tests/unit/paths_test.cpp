// The one set of folder rules: trainer.json's jobs_dir, UTF-8 as every config is, names the same
// folder for the trainer and tandemctl on every platform, non-ASCII names included (under Wine
// too: a plain std::string would be read in the ANSI code page there).
#include "common/paths.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/config.h"
#include "common/files.h"
#include "tests/support/temp_dir.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

// "jöbs-日本-ü": Latin-1 letters and CJK, which no single ANSI code page holds.
const std::string kName =
    "j\xC3\xB6"
    "bs-\xE6\x97\xA5\xE6\x9C\xAC-\xC3\xBC";

TEST(Paths, UtfEightTextAndPathsRoundTrip) {
  EXPECT_EQ(path_utf8(path_from_utf8(kName)), kName);
  EXPECT_EQ(path_from_utf8(kName).u8string(),
            std::u8string(reinterpret_cast<const char8_t*>(kName.data()), kName.size()));
}

TEST(Paths, ANonAsciiJobsDirInTrainerJsonIsThatFolder) {
  testing::TempDir dir;
  const fs::path jobs = dir.path() / path_from_utf8(kName);
  const fs::path config_file = dir.path() / "trainer.json";
  write_file_atomically(config_file, nlohmann::json{{"jobs_dir", path_utf8(jobs)}}.dump(2));

  const fs::path resolved = paths::jobs_dir(load_trainer_config(config_file));
  EXPECT_EQ(resolved, jobs);
  // A folder made through it is found by its UTF-8 name when the parent is listed.
  fs::create_directories(resolved / "inbox");
  bool found = false;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    found = found || path_utf8(entry.path().filename()) == kName;
  }
  EXPECT_TRUE(found);
}

TEST(Paths, WithoutJobsDirTheSpoolIsInTheDataFolder) {
  EXPECT_EQ(paths::jobs_dir(TrainerConfig{}), paths::data_dir() / "jobs");
  EXPECT_EQ(paths::trainer_config(), paths::config_dir() / "trainer.json");
  EXPECT_EQ(paths::llm_server_config(), paths::config_dir() / "llm-server.json");
}

}  // namespace
}  // namespace tandem
