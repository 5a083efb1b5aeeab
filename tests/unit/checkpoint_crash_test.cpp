// The checkpoint never duplicates or drops a finished item: a crash cut at every byte of the
// journal, and writes that fail the way a full or read-only disk makes them fail.
#include <gtest/gtest.h>

#include <set>

#include "common/error.h"
#include "common/log.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/jobs_test_support.h"
#include "trainer/checkpoint/checkpoint.h"

namespace tandem::trainer {
namespace {

using spool::real_file_system;

namespace fs = std::filesystem;
using testing::FaultyFileSystem;
using testing::read_text;
using testing::write_text;

// What a checkpoint had acknowledged when its journal was `journal_bytes` long.
struct Ack {
  std::uintmax_t journal_bytes;
  std::size_t done;
};

class CheckpointCrashTest : public ::testing::Test {
 protected:
  std::uintmax_t journal_size() const {
    std::error_code ec;
    auto size = fs::file_size(work_ / Checkpoint::kJournalName, ec);
    return ec ? 0 : size;
  }

  void run(Checkpoint& c, int items, const std::string& prefix) {
    for (int i = 0; i < items; ++i) {
      std::string id = prefix + std::to_string(i);
      nlohmann::json result = {{"label", i % 3 ? "pos" : "neg \"quoted\"\n\xc3\xa9"},
                               {"logprobs", {-0.25 * i, -1.0 / (i + 1)}}};
      ASSERT_TRUE(c.record(id, result));
      recorded_.push_back(id);
      results_[id] = result;
      acks_.push_back({journal_size(), c.done_count()});
      if (i % 4 == 1) {
        c.set_counter("seen", i);
        acks_.push_back({journal_size(), c.done_count()});
      }
      if (i == 2) {
        c.set_phase("half");
        acks_.push_back({journal_size(), c.done_count()});
      }
    }
  }

  // Cuts the journal at every length, as a crash during any write would, and opens the
  // checkpoint: its items must be exactly what had been acknowledged at that length, in order,
  // and recording goes on cleanly after the dropped tail.
  void cut_everywhere(std::size_t snapshot_done) {
    const std::string snapshot = read_text(work_ / Checkpoint::kSnapshotName);
    const std::string journal = read_text(work_ / Checkpoint::kJournalName);
    ASSERT_FALSE(journal.empty());
    const fs::path copy = dir_ / "copy";
    FaultyFileSystem no_sync(false);    // thousands of appends; fsync is not what is tested here
    log::set_level(log::Level::error);  // a warning per cut would drown the output
    struct RestoreLevel {
      ~RestoreLevel() { log::set_level(log::Level::info); }
    } restore;
    for (std::size_t length = 0; length <= journal.size(); ++length) {
      SCOPED_TRACE("journal cut at byte " + std::to_string(length));
      // Both files are rewritten in place: nothing else in the folder outlives a cut.
      write_text(copy / Checkpoint::kSnapshotName, snapshot);
      write_text(copy / Checkpoint::kJournalName, journal.substr(0, length));

      std::size_t expected = snapshot_done;
      std::size_t last_line_end = 0;
      for (const Ack& ack : acks_) {
        if (ack.journal_bytes <= length) {
          expected = std::max(expected, ack.done);
          last_line_end = std::max<std::size_t>(last_line_end, ack.journal_bytes);
        }
      }
      std::vector<std::string> ids;
      {
        Checkpoint c(no_sync, copy, "job-1");
        ids = c.done_ids();
        ASSERT_EQ(ids, std::vector<std::string>(recorded_.begin(), recorded_.begin() + expected));
        ASSERT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
        ASSERT_EQ(c.dropped_bytes(), length - std::min(length, last_line_end));
        for (const auto& id : ids) ASSERT_EQ(*c.result(id), results_[id]) << id;
        ASSERT_TRUE(c.record("after-crash", 1));
      }
      Checkpoint reopened(no_sync, copy, "job-1");
      ids.push_back("after-crash");
      ASSERT_EQ(reopened.done_ids(), ids);
      ASSERT_EQ(reopened.dropped_bytes(), 0u);
    }
  }

  testing::TempDir dir_;
  fs::path work_ = dir_ / "work";
  std::vector<std::string> recorded_;
  std::map<std::string, nlohmann::json> results_;
  std::vector<Ack> acks_;
};

TEST_F(CheckpointCrashTest, CrashAtEveryByteOfTheJournal) {
  {
    Checkpoint c(real_file_system(), work_, "job-1", CheckpointOptions{1000});
    run(c, 8, "a");
  }
  cut_everywhere(0);
}

TEST_F(CheckpointCrashTest, CrashAtEveryByteAfterACompaction) {
  {
    Checkpoint c(real_file_system(), work_, "job-1", CheckpointOptions{1000});
    run(c, 4, "a");
    c.compact();
    acks_.clear();
    run(c, 4, "b");
  }
  cut_everywhere(4);
}

TEST_F(CheckpointCrashTest, CrashAtEveryByteWhenCompactionLeftTheOldJournal) {
  // The snapshot holds the first items, but the journal still has their lines in front.
  FaultyFileSystem faulty;
  {
    Checkpoint c(faulty, work_, "job-1", CheckpointOptions{1000});
    run(c, 4, "a");
    faulty.fail(FaultyFileSystem::Op::remove, Checkpoint::kJournalName);
    c.compact();
    EXPECT_EQ(faulty.failures(), 1);
    run(c, 4, "b");
  }
  cut_everywhere(4);
}

TEST_F(CheckpointCrashTest, FullDiskDuringAppendLosesOnlyThatItem) {
  FaultyFileSystem faulty;
  Checkpoint c(faulty, work_, "job-1");
  c.record("a", 1);
  c.record("b", 2);
  faulty.fail(FaultyFileSystem::Op::append, Checkpoint::kJournalName, 1, 7);
  try {
    c.record("c", 3);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot append to " +
                                         path_utf8(work_ / Checkpoint::kJournalName) +
                                         ": No space left on device");
  }
  EXPECT_FALSE(c.is_done("c"));
  EXPECT_EQ(c.done_count(), 2u);

  // What is on disk now (with its torn 7 bytes) loads as before the failure.
  fs::copy(work_, dir_ / "copy");
  Checkpoint on_disk(real_file_system(), dir_ / "copy", "job-1");
  EXPECT_EQ(on_disk.done_ids(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(on_disk.dropped_bytes(), 7u);

  // With space again, the same item goes in once and nothing is glued to the torn bytes.
  EXPECT_TRUE(c.record("c", 3));
  EXPECT_TRUE(c.record("d", 4));
  Checkpoint reopened(real_file_system(), work_, "job-1");
  EXPECT_EQ(reopened.done_ids(), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(reopened.dropped_bytes(), 0u);
}

TEST_F(CheckpointCrashTest, ReadOnlyDiskKeepsFailingClearlyAndLosesNothing) {
  FaultyFileSystem faulty;
  Checkpoint c(faulty, work_, "job-1");
  c.record("a", 1);
  c.set_phase("labelling");
  faulty.fail(FaultyFileSystem::Op::append, "", -1, 0, "Read-only file system");
  for (int attempt = 0; attempt < 3; ++attempt) {
    EXPECT_THROW(c.record("b", 2), Error);
    EXPECT_THROW(c.set_counter("n", 1), Error);
  }
  EXPECT_FALSE(c.is_done("b"));
  EXPECT_EQ(c.counter("n"), 0);
  Checkpoint on_disk(real_file_system(), work_, "job-1");
  EXPECT_EQ(on_disk.done_ids(), (std::vector<std::string>{"a"}));
  EXPECT_EQ(on_disk.phase(), "labelling");
}

TEST_F(CheckpointCrashTest, FailedRepairOfATornTailIsReportedAndRetried) {
  FaultyFileSystem faulty;
  Checkpoint c(faulty, work_, "job-1");
  c.record("a", 1);
  faulty.fail(FaultyFileSystem::Op::append, Checkpoint::kJournalName, 1, 5);
  EXPECT_THROW(c.record("b", 2), Error);
  faulty.fail(FaultyFileSystem::Op::truncate, Checkpoint::kJournalName, 1, 0, "I/O error");
  try {
    c.record("b", 2);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot truncate"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(c.record("b", 2));
  Checkpoint reopened(real_file_system(), work_, "job-1");
  EXPECT_EQ(reopened.done_ids(), (std::vector<std::string>{"a", "b"}));
}

TEST_F(CheckpointCrashTest, FailedSnapshotLeavesThePreviousCheckpointReadable) {
  FaultyFileSystem faulty;
  Checkpoint c(faulty, work_, "job-1");
  c.record("a", 1);
  c.record("b", 2);
  faulty.fail(FaultyFileSystem::Op::write_atomically, Checkpoint::kSnapshotName, 1, 20);
  try {
    c.compact();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("checkpoint.json.tmp: No space left on device"),
              std::string::npos)
        << e.what();
  }
  Checkpoint reopened(real_file_system(), work_, "job-1");
  EXPECT_EQ(reopened.done_ids(), (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(fs::exists(work_ / "checkpoint.json.tmp"));
}

TEST_F(CheckpointCrashTest, AutomaticCompactionFailureDoesNotFailTheRecord) {
  FaultyFileSystem faulty;
  {
    Checkpoint c(faulty, work_, "job-1", CheckpointOptions{2});
    c.record("a", 1);
    faulty.fail(FaultyFileSystem::Op::write_atomically, Checkpoint::kSnapshotName);
    EXPECT_TRUE(c.record("b", 2));  // due for a snapshot here; it fails, the journal has it
    EXPECT_EQ(faulty.failures(), 1);
    EXPECT_TRUE(c.record("c", 3));
    EXPECT_TRUE(c.record("d", 4));  // the next snapshot succeeds
  }
  EXPECT_FALSE(fs::exists(work_ / Checkpoint::kJournalName));
  Checkpoint reopened(real_file_system(), work_, "job-1");
  EXPECT_EQ(reopened.done_ids(), (std::vector<std::string>{"a", "b", "c", "d"}));
}

TEST_F(CheckpointCrashTest, FailedCreationOfTheFirstSnapshotIsAnError) {
  FaultyFileSystem faulty;
  faulty.fail(FaultyFileSystem::Op::write_atomically, "", 1, 0, "Read-only file system");
  try {
    Checkpoint c(faulty, work_, "job-1");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Read-only file system"), std::string::npos);
  }
}

}  // namespace
}  // namespace tandem::trainer
