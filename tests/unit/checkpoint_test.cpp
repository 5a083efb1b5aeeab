// A job's checkpoint: what it keeps across a restart, and what it refuses to load.
#include "trainer/checkpoint/checkpoint.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/jobs_test_support.h"

namespace tandem::trainer {
namespace {

using spool::real_file_system;

namespace fs = std::filesystem;
using testing::read_text;
using testing::write_text;

std::size_t line_count(const fs::path& file) {
  std::string text = read_text(file);
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

std::string error_opening(const fs::path& folder, const std::string& job_id = "job-1") {
  try {
    Checkpoint(real_file_system(), folder, job_id);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

class CheckpointTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
  fs::path work_ = dir_ / "job-1.work";
  fs::path snapshot_ = work_ / Checkpoint::kSnapshotName;
  fs::path journal_ = work_ / Checkpoint::kJournalName;
};

TEST_F(CheckpointTest, NothingOnDiskMeansEmpty) {
  Checkpoint c(real_file_system(), work_, "job-1");
  EXPECT_EQ(c.done_count(), 0u);
  EXPECT_FALSE(c.is_done("a"));
  EXPECT_EQ(c.result("a"), nullptr);
  EXPECT_EQ(c.phase(), "");
  EXPECT_EQ(c.counter("epoch"), 0);
  EXPECT_TRUE(fs::exists(snapshot_));  // it records whose checkpoint it is
}

TEST_F(CheckpointTest, KeepsItemsPhaseAndCountersAcrossARestart) {
  {
    Checkpoint c(real_file_system(), work_, "job-1");
    EXPECT_TRUE(c.record("line:1", {{"label", "pos"}, {"logprobs", {-0.1, -2.5}}}));
    EXPECT_TRUE(c.record("line:2", {{"label", "neg"}, {"logprobs", {-3.0, -0.05}}}));
    c.set_phase("labelling");
    c.set_counter("items_total", 300);
  }
  Checkpoint c(real_file_system(), work_, "job-1");
  EXPECT_EQ(c.done_ids(), (std::vector<std::string>{"line:1", "line:2"}));
  ASSERT_NE(c.result("line:2"), nullptr);
  EXPECT_EQ((*c.result("line:2"))["label"], "neg");
  EXPECT_DOUBLE_EQ((*c.result("line:2"))["logprobs"][1].get<double>(), -0.05);
  EXPECT_EQ(c.phase(), "labelling");
  EXPECT_EQ(c.counter("items_total"), 300);
  EXPECT_EQ(c.counters().size(), 1u);
  EXPECT_EQ(c.dropped_bytes(), 0u);
}

TEST_F(CheckpointTest, RecordingTwiceKeepsTheFirstResultAndWritesNothing) {
  Checkpoint c(real_file_system(), work_, "job-1");
  EXPECT_TRUE(c.record("a", "pos"));
  auto size = fs::file_size(journal_);
  EXPECT_FALSE(c.record("a", "neg"));
  EXPECT_EQ(fs::file_size(journal_), size);
  EXPECT_EQ(*c.result("a"), "pos");
  c.set_phase("training");
  c.set_phase("training");
  c.set_counter("epoch", 2);
  c.set_counter("epoch", 2);
  EXPECT_EQ(line_count(journal_), 3u);
  Checkpoint reloaded(real_file_system(), work_, "job-1");
  EXPECT_EQ(reloaded.done_count(), 1u);
  EXPECT_EQ(*reloaded.result("a"), "pos");
}

TEST_F(CheckpointTest, CompactionFoldsTheJournalIntoTheSnapshot) {
  CheckpointOptions options{4};
  {
    Checkpoint c(real_file_system(), work_, "job-1", options);
    for (int i = 0; i < 10; ++i) c.record("item" + std::to_string(i), i);
    c.set_counter("seen", 10);
    // Compacted at 4 lines, then at 8 (items outnumber the minimum); 3 lines since.
    EXPECT_EQ(line_count(journal_), 3u);
  }
  Checkpoint c(real_file_system(), work_, "job-1", options);
  EXPECT_EQ(c.done_count(), 10u);
  EXPECT_EQ(*c.result("item7"), 7);
  EXPECT_EQ(c.counter("seen"), 10);
  c.compact();
  EXPECT_FALSE(fs::exists(journal_));
  Checkpoint again(real_file_system(), work_, "job-1", options);
  EXPECT_EQ(again.done_ids(), c.done_ids());
  EXPECT_EQ(again.counter("seen"), 10);
}

TEST_F(CheckpointTest, JournalLinesAlreadyInTheSnapshotAreNotAppliedTwice) {
  // A stop between writing the snapshot and emptying the journal.
  std::string journal_before;
  {
    Checkpoint c(real_file_system(), work_, "job-1");
    c.record("a", 1);
    c.record("b", 2);
    c.set_counter("n", 5);
    journal_before = read_text(journal_);
    c.compact();
  }
  write_text(journal_, journal_before);
  {
    Checkpoint c(real_file_system(), work_, "job-1");
    EXPECT_EQ(c.done_ids(), (std::vector<std::string>{"a", "b"}));
    c.record("c", 3);  // numbered after the snapshot, behind the old lines
    c.set_counter("n", 6);
  }
  Checkpoint c(real_file_system(), work_, "job-1");
  EXPECT_EQ(c.done_ids(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(c.counter("n"), 6);
}

TEST_F(CheckpointTest, LeftoverTemporaryFileIsRemoved) {
  {
    Checkpoint c(real_file_system(), work_, "job-1");
    c.record("a", 1);
    c.compact();
  }
  fs::path temp = snapshot_;
  temp += ".tmp";
  write_text(temp, "{\"format\":1,\"job_id\":\"job-1\",\"seq\":9,\"pha");  // a crash mid-write
  Checkpoint c(real_file_system(), work_, "job-1");
  EXPECT_EQ(c.done_ids(), (std::vector<std::string>{"a"}));
  EXPECT_FALSE(fs::exists(temp));
}

TEST_F(CheckpointTest, CorruptSnapshotIsAnErrorNamingTheFile) {
  {
    Checkpoint c(real_file_system(), work_, "job-1");
    c.record("a", 1);
    c.compact();
  }
  const std::string good = read_text(snapshot_);
  const std::string name = path_utf8(snapshot_);
  write_text(snapshot_, good.substr(0, good.size() / 2));
  std::string e = error_opening(work_);
  EXPECT_EQ(e.rfind("corrupt checkpoint: " + name + ":", 0), 0u) << e;
  EXPECT_NE(e.find("invalid JSON"), std::string::npos) << e;

  write_text(snapshot_, "\x01\x02garbage");
  EXPECT_EQ(error_opening(work_).rfind("corrupt checkpoint: " + name + ":1:", 0), 0u);
  write_text(snapshot_, "{\"format\": 1}");
  EXPECT_EQ(error_opening(work_),
            "corrupt checkpoint: " + name +
                ": missing or mistyped job_id, seq, phase, counters or items");
  write_text(snapshot_, "{\"format\": \"one\"}");
  EXPECT_EQ(error_opening(work_), "corrupt checkpoint: " + name + ": unknown format (expected 1)");
  write_text(snapshot_, "");
  EXPECT_EQ(error_opening(work_).rfind("corrupt checkpoint: " + name + ":1:", 0), 0u);
  // Never reset: the damaged file is still there for a person to look at.
  EXPECT_EQ(read_text(snapshot_), "");
}

TEST_F(CheckpointTest, CorruptJournalLineIsAnErrorNamingFileAndLine) {
  {
    Checkpoint c(real_file_system(), work_, "job-1");
    c.record("a", 1);
    c.record("b", 2);
  }
  const std::string good = read_text(journal_);
  const std::string name = path_utf8(journal_);
  write_text(journal_, good + "{\"seq\":3,\"done\":\"c\",\"res\n");
  EXPECT_EQ(error_opening(work_), "corrupt checkpoint: " + name + ":3: not a JSON object");
  write_text(journal_, good + "{\"seq\":5,\"done\":\"c\",\"result\":3}\n");
  EXPECT_EQ(error_opening(work_),
            "corrupt checkpoint: " + name + ":3: sequence number 5 where 3 was expected");
  write_text(journal_, good + "{\"seq\":3,\"done\":\"a\",\"result\":3}\n");
  EXPECT_EQ(error_opening(work_), "corrupt checkpoint: " + name + ":3: item 'a' recorded twice");
  write_text(journal_, good + "{\"seq\":3,\"color\":\"red\"}\n");
  EXPECT_EQ(error_opening(work_), "corrupt checkpoint: " + name + ":3: unknown entry");
  write_text(journal_, "{\"done\":\"a\",\"result\":1}\n");
  EXPECT_EQ(error_opening(work_), "corrupt checkpoint: " + name + ":1: no sequence number");
}

TEST_F(CheckpointTest, AJournalWithoutItsSnapshotIsAnError) {
  {
    Checkpoint c(real_file_system(), work_, "job-1");
    c.record("a", 1);
  }
  fs::remove(snapshot_);
  EXPECT_EQ(error_opening(work_),
            "corrupt checkpoint: " + path_utf8(journal_) + " has no checkpoint.json beside it");
}

TEST_F(CheckpointTest, AnotherJobsCheckpointIsRefused) {
  { Checkpoint c(real_file_system(), work_, "job-1"); }
  EXPECT_EQ(error_opening(work_, "job-2"),
            path_utf8(snapshot_) + " is the checkpoint of job 'job-1', not of job 'job-2'");
}

TEST_F(CheckpointTest, AnEntryThatCannotBeWrittenIsAnErrorAndNotRecorded) {
  Checkpoint c(real_file_system(), work_, "job-1");
  c.record("a", 1);
  EXPECT_THROW(c.record("bad\xff", 2), Error);  // JSON needs UTF-8
  EXPECT_THROW(c.record("b", "bad\xff"), Error);
  EXPECT_FALSE(c.is_done("b"));
  c.record("c", 3);
  Checkpoint reopened(real_file_system(), work_, "job-1");
  EXPECT_EQ(reopened.done_ids(), (std::vector<std::string>{"a", "c"}));
}

TEST_F(CheckpointTest, SnapshotIsReadableJsonWithOneItemPerLine) {
  Checkpoint c(real_file_system(), work_, "job-1");
  c.record("x", {{"label", "pos"}});
  c.record("y", {{"label", "neg"}});
  c.set_phase("training");
  c.compact();
  auto j = nlohmann::json::parse(read_text(snapshot_));
  EXPECT_EQ(j["job_id"], "job-1");
  EXPECT_EQ(j["phase"], "training");
  EXPECT_EQ(j["seq"], 3);
  ASSERT_EQ(j["items"].size(), 2u);
  EXPECT_EQ(j["items"][1]["id"], "y");
  EXPECT_EQ(line_count(snapshot_), 5u);
}

}  // namespace
}  // namespace tandem::trainer
