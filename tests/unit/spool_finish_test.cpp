// Resuming active jobs and finishing them, including a stop in the middle of a finish.
#include <gtest/gtest.h>

#include "common/error.h"
#include "common/spool/spool.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/jobs_test_support.h"

namespace tandem::spool {
namespace {

namespace fs = std::filesystem;
using testing::FaultyFileSystem;
using testing::read_text;
using testing::write_text;

class SpoolFinishTest : public ::testing::Test {
 protected:
  SpoolFinishTest() { write_text(root_ / "inbox" / "data.jsonl", "{\"text\": \"fine\"}\n"); }

  Job claim(Spool& spool, const std::string& name, int seconds_old = 10,
            const std::string& extra = "") {
    fs::path file = root_ / "inbox" / (name + ".json");
    write_text(file,
               "{\"kind\": \"distill\", \"dataset\": \"data.jsonl\", \"labels\": [\"a\", "
               "\"b\"]" +
                   extra + "}");
    testing::age(file, seconds_old);
    auto job = spool.claim_next();
    if (!job) throw Error("no job claimed");
    write_text(job->work_dir / "checkpoint.json", "progress of " + name);
    return *job;
  }

  testing::TempDir dir_;
  fs::path root_ = dir_ / "jobs";
};

TEST_F(SpoolFinishTest, ActiveJobsAreResumedAfterARestart) {
  std::string first_id, second_id;
  {
    Spool spool(root_);
    first_id = claim(spool, "first", 200).id;
    second_id = claim(spool, "second", 100).id;
  }
  Spool restarted(root_);
  auto jobs = restarted.active_jobs();
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].id, first_id);  // oldest first
  EXPECT_EQ(jobs[1].id, second_id);
  EXPECT_EQ(jobs[0].spec.name, "first");
  EXPECT_EQ(jobs[0].spec.as<DistillSpec>()->dataset,
            (root_ / "inbox" / "data.jsonl").lexically_normal());
  EXPECT_EQ(read_text(jobs[0].work_dir / "checkpoint.json"), "progress of first");
  EXPECT_FALSE(restarted.claim_next().has_value());  // active jobs are not claimed again
}

TEST_F(SpoolFinishTest, AWorkFolderLostBeforeItWasMadeIsMadeOnResume) {
  Spool spool(root_);
  Job job = claim(spool, "j");
  fs::remove_all(job.work_dir);
  auto jobs = Spool(root_).active_jobs();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_TRUE(fs::is_directory(jobs[0].work_dir));
}

TEST_F(SpoolFinishTest, DoneMovesTheJobAndItsWorkFolder) {
  Spool spool(root_);
  Job job = claim(spool, "j");
  fs::path moved = spool.finish(job, true, "");
  EXPECT_EQ(moved, root_ / "done" / (job.id + ".json"));
  EXPECT_TRUE(fs::exists(moved));
  EXPECT_EQ(read_text(root_ / "done" / (job.id + ".work") / "checkpoint.json"), "progress of j");
  EXPECT_FALSE(fs::exists(root_ / "done" / (job.id + ".reason.txt")));
  EXPECT_TRUE(fs::is_empty(root_ / "active"));
  EXPECT_TRUE(Spool(root_).active_jobs().empty());
}

TEST_F(SpoolFinishTest, FinishingTwiceIsAnErrorAndMovesNothingMore) {
  Spool spool(root_);
  Job job = claim(spool, "j");
  spool.finish(job, true, "");
  EXPECT_THROW(spool.finish(job, false, "again"), Error);
  EXPECT_TRUE(fs::is_empty(root_ / "failed"));
  EXPECT_TRUE(fs::exists(root_ / "done" / (job.id + ".json")));
}

TEST_F(SpoolFinishTest, AReasonThatIsNotUtf8IsKept) {
  Spool spool(root_);
  Job job = claim(spool, "j");
  spool.finish(job, false, "Zugriff verweigert: \xc4nderung");  // Latin-1, as a legacy code page
  EXPECT_EQ(read_text(root_ / "failed" / (job.id + ".reason.txt")),
            "Zugriff verweigert: \xc4nderung\n");
}

TEST_F(SpoolFinishTest, ALeftoverFinishMarkerKeepsItsNameFromANewClaim) {
  FaultyFileSystem faulty;
  Spool spool(root_, faulty);
  Job first = claim(spool, "j");
  faulty.fail(FaultyFileSystem::Op::remove, ".finish");  // moved, but the marker stays
  EXPECT_THROW(spool.finish(first, true, ""), Error);
  Job second = claim(spool, "j");  // same content: it must not take the marker's id
  EXPECT_EQ(second.id, first.id + "-1");
  auto active = spool.active_jobs();  // completes the first finish, leaves the second alone
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].id, second.id);
  EXPECT_TRUE(fs::exists(root_ / "done" / (first.id + ".json")));
  EXPECT_FALSE(fs::exists(root_ / "active" / (first.id + ".finish")));
}

TEST_F(SpoolFinishTest, FailedWritesTheReason) {
  Spool spool(root_);
  Job job = claim(spool, "j");
  fs::path moved = spool.finish(job, false, "server unreachable for 30 s");
  EXPECT_EQ(moved, root_ / "failed" / (job.id + ".json"));
  EXPECT_EQ(read_text(root_ / "failed" / (job.id + ".reason.txt")),
            "server unreachable for 30 s\n");
  EXPECT_TRUE(fs::is_directory(root_ / "failed" / (job.id + ".work")));
  EXPECT_TRUE(fs::is_empty(root_ / "active"));
}

TEST_F(SpoolFinishTest, NameClashesGetASuffixAndNothingIsOverwritten) {
  Spool spool(root_);
  Job first = claim(spool, "j");
  spool.finish(first, true, "");
  Job again = claim(spool, "j");  // same file, same content: same id
  ASSERT_EQ(again.id, first.id);
  write_text(again.work_dir / "checkpoint.json", "second run");
  fs::path moved = spool.finish(again, true, "");
  EXPECT_EQ(moved, root_ / "done" / (first.id + "-1.json"));
  EXPECT_EQ(read_text(root_ / "done" / (first.id + ".work") / "checkpoint.json"), "progress of j");
  EXPECT_EQ(read_text(root_ / "done" / (first.id + "-1.work") / "checkpoint.json"), "second run");
  // A stray folder alone also takes the name.
  Job third = claim(spool, "j");
  fs::create_directories(root_ / "done" / (first.id + "-2.work"));
  EXPECT_EQ(spool.finish(third, true, ""), root_ / "done" / (first.id + "-3.json"));
}

TEST_F(SpoolFinishTest, AJobThatNoLongerValidatesFailsOnResume) {
  Job job;
  {
    Spool spool(root_);
    job = claim(spool, "j");
  }
  fs::remove(root_ / "inbox" / "data.jsonl");
  Spool restarted(root_);
  EXPECT_TRUE(restarted.active_jobs().empty());
  std::string reason = read_text(root_ / "failed" / (job.id + ".reason.txt"));
  EXPECT_EQ(
      reason.rfind("no longer valid when resumed: " + path_utf8(job.file) + ":1: field 'dataset': ",
                   0),
      0u)
      << reason;
  EXPECT_EQ(read_text(root_ / "failed" / (job.id + ".work") / "checkpoint.json"), "progress of j");
}

// Each step of a finish fails once (as if the service stopped there); opening the spool again
// completes the move, or leaves the job active when the outcome was never written down.
TEST_F(SpoolFinishTest, AnInterruptedFinishIsCompletedOnTheNextStart) {
  struct Step {
    FaultyFileSystem::Op op;
    std::string path;
    bool outcome_written;
  };
  const std::vector<Step> steps = {
      {FaultyFileSystem::Op::write_atomically, ".finish", false},
      {FaultyFileSystem::Op::write_atomically, ".reason.txt", true},
      {FaultyFileSystem::Op::rename, ".work", true},
      {FaultyFileSystem::Op::rename, ".json", true},
      {FaultyFileSystem::Op::remove, ".finish", true},
  };
  for (const Step& step : steps) {
    SCOPED_TRACE(step.path);
    fs::remove_all(root_ / "active");
    fs::remove_all(root_ / "failed");
    FaultyFileSystem faulty;
    Spool spool(root_, faulty);
    Job job = claim(spool, "j");
    faulty.fail(step.op, step.path);
    EXPECT_THROW(spool.finish(job, false, "bad labels"), Error);
    EXPECT_EQ(faulty.failures(), 1);

    Spool restarted(root_);
    auto active = restarted.active_jobs();
    if (!step.outcome_written) {
      ASSERT_EQ(active.size(), 1u);
      EXPECT_EQ(active[0].id, job.id);
      EXPECT_FALSE(fs::exists(root_ / "failed" / (job.id + ".json")));
      continue;
    }
    EXPECT_TRUE(active.empty());
    EXPECT_TRUE(fs::is_empty(root_ / "active"));
    EXPECT_TRUE(fs::exists(root_ / "failed" / (job.id + ".json")));
    EXPECT_EQ(read_text(root_ / "failed" / (job.id + ".work") / "checkpoint.json"),
              "progress of j");
    EXPECT_EQ(read_text(root_ / "failed" / (job.id + ".reason.txt")), "bad labels\n");
  }
}

TEST_F(SpoolFinishTest, AFailedFinishIsRetriedByActiveJobsInTheSameRun) {
  FaultyFileSystem faulty;
  Spool spool(root_, faulty);
  Job job = claim(spool, "j");
  faulty.fail(FaultyFileSystem::Op::rename, ".json");
  EXPECT_THROW(spool.finish(job, true, ""), Error);
  EXPECT_TRUE(spool.active_jobs().empty());
  EXPECT_TRUE(fs::exists(root_ / "done" / (job.id + ".json")));
  EXPECT_TRUE(fs::exists(root_ / "done" / (job.id + ".work")));
}

}  // namespace
}  // namespace tandem::spool
