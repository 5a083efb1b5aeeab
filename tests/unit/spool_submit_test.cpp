// Submitting a job: validation and path rewriting, inbox naming and placement.
#include "common/spool/submit.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/jobs_test_support.h"

namespace tandem::spool {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::write_text;

std::vector<std::string> files_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(path_utf8(e.path().filename()));
  std::sort(names.begin(), names.end());
  return names;
}

TEST(SpoolSubmit, RelativePathsBecomeAbsoluteAgainstTheJobFilesFolder) {
  TempDir dir;
  write_text(dir / "data" / "items.jsonl", "{\"text\":\"a\"}\n");
  const std::string text = R"({"kind": "distill", "labels": ["a", "b"],
  "dataset": "data/../data/items.jsonl", "epochs": 2})";
  auto job = nlohmann::ordered_json::parse(absolute_job("job.json", text, dir.path()));
  EXPECT_EQ(job["dataset"], path_utf8((dir / "data" / "items.jsonl").lexically_normal()));
  EXPECT_EQ(job["epochs"], 2);
  EXPECT_EQ(job.begin().key(), "kind");  // the person's order kept

  fs::create_directories(dir / "work");
  auto command = nlohmann::json::parse(
      absolute_job("cmd.json", R"({"kind":"command","command":["python","t.py"]})", dir.path()));
  EXPECT_EQ(command["working_dir"], path_utf8(dir.path().lexically_normal()));
  command = nlohmann::json::parse(absolute_job(
      "cmd.json", R"({"kind":"command","command":["x"],"working_dir":"work"})", dir.path()));
  EXPECT_EQ(command["working_dir"], path_utf8((dir / "work").lexically_normal()));
}

TEST(SpoolSubmit, AnInvalidJobNamesFileLineAndField) {
  TempDir dir;
  write_text(dir / "items.jsonl", "");
  auto error_of = [&](const std::string& text) -> std::string {
    try {
      absolute_job("bad.json", text, dir.path());
    } catch (const InputError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(error_of("{\"kind\": \"distill\",\n \"dataset\": \"items.jsonl\",\n \"labels\": "
                     "[\"yes\"]}")
                .substr(0, 26),
            "bad.json:3: field 'labels'");
  EXPECT_NE(error_of(R"({"kind":"distill","dataset":"gone.jsonl","labels":["a","b"]})")
                .find("field 'dataset'"),
            std::string::npos);
  EXPECT_NE(error_of("{\"kind\": ").find("bad.json:1"), std::string::npos);
}

TEST(SpoolSubmit, JobNames) {
  EXPECT_FALSE(job_name_problem("sentiment-2024"));
  EXPECT_TRUE(job_name_problem(""));
  EXPECT_TRUE(job_name_problem(".hidden"));
  EXPECT_TRUE(job_name_problem("a/b"));
  EXPECT_TRUE(job_name_problem("a\\b"));
  EXPECT_TRUE(job_name_problem("c:x"));
  EXPECT_TRUE(job_name_problem("trailing."));
  EXPECT_EQ(job_name_problem("a*b"), "a job name must not contain '*'");
}

TEST(SpoolSubmit, NamesNeverCollideAndNothingIsReplaced) {
  TempDir root;
  const fs::path inbox = root / "inbox";
  auto first = submit_job(root.path(), "job", "one");
  auto second = submit_job(root.path(), "job", "two");
  write_text(inbox / "job-3.json", "someone else's");
  auto fourth = submit_job(root.path(), "job", "four");
  EXPECT_EQ(first, inbox / "job.json");
  EXPECT_EQ(second, inbox / "job-2.json");
  EXPECT_EQ(fourth, inbox / "job-4.json");
  EXPECT_EQ(read_file(first), "one");
  EXPECT_EQ(read_file(second), "two");
  EXPECT_EQ(read_file(inbox / "job-3.json"), "someone else's");
  EXPECT_EQ(read_file(fourth), "four");
  // No temporary left behind.
  EXPECT_EQ(files_in(inbox),
            (std::vector<std::string>{"job-2.json", "job-3.json", "job-4.json", "job.json"}));
}

TEST(SpoolSubmit, CreatesTheInboxAndReportsARefusedFolder) {
  TempDir root;
  auto placed = submit_job(root / "jobs", "new", "{}");
  EXPECT_EQ(placed, root / "jobs" / "inbox" / "new.json");
  // A file where the folder should be: a clear Error naming it (not access denied).
  write_text(root / "blocked", "");
  try {
    submit_job(root / "blocked", "x", "{}");
    ADD_FAILURE() << "no error";
  } catch (const AccessDenied& e) {
    ADD_FAILURE() << "not a permission problem: " << e.what();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("blocked"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tandem::spool
