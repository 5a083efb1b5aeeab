#include "common/log.h"

#include <gtest/gtest.h>

#include "common/files.h"
#include "tests/support/temp_dir.h"

namespace tandem {
namespace {

class LogTest : public ::testing::Test {
 protected:
  void TearDown() override { log::shutdown(); }
  log::Options options(const std::string& stem) const {
    log::Options o;
    o.directory = dir.path();
    o.file_stem = stem;
    return o;
  }
  testing::TempDir dir;
};

TEST_F(LogTest, LinesReachTheFileAtOnce) {
  log::init(options("unit"));
  TLOG(info) << "listening on port " << 8031;
  // Auto-flush: readable before any shutdown or flush call.
  std::string text = read_file(dir / "unit.log");
  EXPECT_NE(text.find("[info] listening on port 8031"), std::string::npos) << text;
}

TEST_F(LogTest, LevelFiltersLowerSeverities) {
  auto o = options("lvl");
  o.level = log::Level::warning;
  log::init(o);
  TLOG(info) << "hidden";
  TLOG(error) << "shown";
  std::string text = read_file(dir / "lvl.log");
  EXPECT_EQ(text.find("hidden"), std::string::npos);
  EXPECT_NE(text.find("[error] shown"), std::string::npos);
}

TEST_F(LogTest, RotatesAndKeepsAtMostMaxFiles) {
  auto o = options("rot");
  o.rotation_bytes = 1024;
  o.max_files = 3;
  log::init(o);
  for (int i = 0; i < 200; ++i) TLOG(info) << "line " << i << " " << std::string(40, 'x');
  log::shutdown();
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    if (e.path().filename().string().rfind("rot", 0) == 0) ++files;
  }
  EXPECT_GE(files, 2);
  EXPECT_LE(files, 3);
}

TEST(LogLevel, ParsesNames) {
  EXPECT_EQ(log::parse_level("debug"), log::Level::debug);
  EXPECT_EQ(log::level_name(log::Level::warning), "warning");
}

}  // namespace
}  // namespace tandem
