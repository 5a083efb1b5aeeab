// Reading a spool's jobs from its folders, as tandemctl lists them and the trainer claims them.
#include "common/spool/listing.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/files.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/jobs_test_support.h"

namespace tandem::spool {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::write_text;

TEST(SpoolListing, ClassifiesEachFolderAndSkipsWhatTheSpoolSkips) {
  TempDir root;
  write_text(root / "inbox" / "new.json", "{}");
  write_text(root / "inbox" / ".new.123.tmp", "{}");  // submit's temporary
  write_text(root / "inbox" / "notes.txt", "x");      // not a job
  write_text(root / "inbox" / ".hidden.json", "{}");  // hidden
  write_text(root / "active" / "busy-0123abcd.json", "{}");
  fs::create_directories(root / "active" / "busy-0123abcd.work");
  write_text(root / "active" / "busy-0123abcd.finish", "{}");
  write_text(root / "done" / "small-89abcdef.json", "{}");
  fs::create_directories(root / "done" / "small-89abcdef.work");
  write_text(root / "failed" / "bad.json", "{");
  write_text(root / "failed" / "bad.reason.txt", "bad.json:1:2: syntax error\nmore detail\n");

  auto jobs = list_jobs(root.path());
  ASSERT_EQ(jobs.size(), 4u);
  EXPECT_EQ(jobs[0].state, JobState::queued);
  EXPECT_EQ(jobs[0].id, "new");
  EXPECT_EQ(jobs[0].name, "new");
  EXPECT_TRUE(jobs[0].work_dir.empty());
  EXPECT_EQ(jobs[1].state, JobState::running);
  EXPECT_EQ(jobs[1].name, "busy");
  EXPECT_EQ(jobs[1].work_dir, root / "active" / "busy-0123abcd.work");
  EXPECT_EQ(jobs[2].state, JobState::done);
  EXPECT_EQ(jobs[2].id, "small-89abcdef");
  EXPECT_EQ(jobs[2].name, "small");
  EXPECT_EQ(jobs[3].state, JobState::failed);
  EXPECT_EQ(jobs[3].reason_file, root / "failed" / "bad.reason.txt");
  EXPECT_EQ(jobs[3].reason, "bad.json:1:2: syntax error");

  EXPECT_EQ(finish_markers(root.path()),
            std::vector<fs::path>{root / "active" / "busy-0123abcd.finish"});
}

TEST(SpoolListing, EachFolderInNameOrderAnyCaseOfExtension) {
  TempDir root;
  write_text(root / "inbox" / "b.json", "{}");
  write_text(root / "inbox" / "a.JSON", "{}");
  write_text(root / "inbox" / "c.Json", "{}");
  std::vector<std::string> ids;
  for (const auto& job : list_jobs(root.path(), JobState::queued)) ids.push_back(job.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(SpoolListing, MissingFoldersHoldNoJobsUnlessTheSpoolAsksForOne) {
  TempDir root;
  EXPECT_TRUE(list_jobs(root / "nowhere").empty());
  try {
    list_jobs(root / "nowhere", JobState::queued);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot list " + path_utf8(root / "nowhere" / "inbox")),
              std::string::npos)
        << e.what();
  }
}

TEST(SpoolListing, ReasonFirstLine) {
  TempDir dir;
  write_text(dir / "crlf.txt", "first\r\nsecond\r\n");
  write_text(dir / "one.txt", "only line without end");
  write_text(dir / "empty.txt", "");
  EXPECT_EQ(first_line(dir / "crlf.txt"), "first");
  EXPECT_EQ(first_line(dir / "one.txt"), "only line without end");
  EXPECT_EQ(first_line(dir / "empty.txt"), "");
  EXPECT_EQ(first_line(dir / "missing.txt"), "");
}

TEST(SpoolLayout, FoldersAndFileNames) {
  const fs::path root = "jobs";
  EXPECT_EQ(state_folder(root, JobState::queued), root / "inbox");
  EXPECT_EQ(state_folder(root, JobState::running), root / "active");
  EXPECT_EQ(state_folder(root, JobState::done), root / "done");
  EXPECT_EQ(state_folder(root, JobState::failed), root / "failed");
  EXPECT_EQ(job_path(root / "done", "a-1", kWorkSuffix), root / "done" / "a-1.work");
  EXPECT_TRUE(is_spool_file("a.json", kJobExtension));
  EXPECT_TRUE(is_spool_file("a.JSON", kJobExtension));
  EXPECT_FALSE(is_spool_file(".a.json", kJobExtension));
  EXPECT_FALSE(is_spool_file("a.json.tmp", kJobExtension));
  EXPECT_FALSE(is_spool_file(".json", kJobExtension));
  EXPECT_TRUE(is_spool_file("a-0123abcd.finish", kFinishSuffix));
  EXPECT_EQ(to_string(JobState::running), "running");
}

}  // namespace
}  // namespace tandem::spool
