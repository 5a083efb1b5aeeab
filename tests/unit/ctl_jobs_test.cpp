// The portable parts of tandemctl jobs / logs: the spool's jobs as shown and the wait verdict,
// log tails and following, waiting on several folders.
#include <gtest/gtest.h>

#include <condition_variable>
#include <fstream>
#include <mutex>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "ctl/any_folder_watch.h"
#include "ctl/job_listing.h"
#include "ctl/log_tail.h"
#include "tests/support/temp_dir.h"

namespace tandem::ctl {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using spool::JobState;
using spool::list_jobs;
using testing::TempDir;

void write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << text;
}

void append(const fs::path& file, const std::string& text) {
  std::ofstream(file, std::ios::binary | std::ios::app) << text;
}

// --- listing -----------------------------------------------------------------------------------

TEST(CtlJobListing, NoJobsNoLines) {
  EXPECT_EQ(jobs_text({}, std::nullopt), "");
  EXPECT_EQ(jobs_json({}, std::nullopt), nlohmann::json::array());
}

TEST(CtlJobListing, ProgressShowsOnlyForTheJobTheTrainerWorksOn) {
  TempDir root;
  write(root / "active" / "big-0123abcd.json", "{}");
  write(root / "failed" / "x-00000000.json", "{}");
  write(root / "failed" / "x-00000000.reason.txt", "dataset gone\n");
  const auto jobs = list_jobs(root.path());
  TrainerProgress progress;
  progress.state = "working";
  progress.job = "big-0123abcd";
  progress.items_done = 3;
  progress.items_total = 10;
  EXPECT_EQ(jobs_text(jobs, progress),
            "running  big-0123abcd  3/10 items\nfailed   x-00000000  dataset gone\n");
  auto j = jobs_json(jobs, progress);
  EXPECT_EQ(j[0]["items_done"], 3);
  EXPECT_EQ(j[0]["items_total"], 10);
  EXPECT_EQ(j[1]["reason"], "dataset gone");
  progress.job = "other-11111111";
  EXPECT_FALSE(jobs_json(jobs, progress)[0].contains("items_done"));
  progress.state = "waiting";
  progress.job = "big-0123abcd";
  progress.items_done = 0;
  EXPECT_EQ(jobs_text(jobs, progress).substr(0, 44),
            "running  big-0123abcd  0/10 items (waiting)\n");
}

TEST(CtlJobListing, WaitEndsOnlyWhenNothingOfThatNameIsQueuedOrRunning) {
  TempDir root;
  EXPECT_FALSE(wait_verdict(list_jobs(root.path()), "job").ended);
  EXPECT_FALSE(wait_verdict(list_jobs(root.path()), "job").job);

  write(root / "done" / "job-00000001.json", "{}");  // an earlier run of the same name
  write(root / "inbox" / "job.json", "{}");
  auto v = wait_verdict(list_jobs(root.path()), "job");
  EXPECT_FALSE(v.ended);
  ASSERT_TRUE(v.job);
  EXPECT_EQ(v.job->state, JobState::queued);

  write(root / "failed" / "job.reason.txt", "job.json:3:5: field 'labels': bad\n");
  fs::rename(root / "inbox" / "job.json", root / "failed" / "job.json");
  // The rename keeps the content's time; make the failed one the newer, as a later submit is.
  fs::last_write_time(root / "failed" / "job.json",
                      fs::last_write_time(root / "done" / "job-00000001.json") + 1h);
  v = wait_verdict(list_jobs(root.path()), "job");
  EXPECT_TRUE(v.ended);
  EXPECT_EQ(v.job->state, JobState::failed);
  EXPECT_EQ(v.job->reason, "job.json:3:5: field 'labels': bad");
  // A whole id names exactly one.
  v = wait_verdict(list_jobs(root.path()), "job-00000001");
  EXPECT_TRUE(v.ended);
  EXPECT_EQ(v.job->state, JobState::done);
  // "job-2" is another name, not a run of "job".
  EXPECT_FALSE(wait_verdict(list_jobs(root.path()), "job-2").job);
}

// --- logs --------------------------------------------------------------------------------------

TEST(CtlLogTail, LastLinesInEveryShape) {
  TempDir dir;
  write(dir / "lf.log", "one\ntwo\nthree\nfour\n");
  write(dir / "open.log", "one\ntwo\nthree");
  write(dir / "crlf.log", "one\r\ntwo\r\nthree\r\n");
  write(dir / "empty.log", "");
  write(dir / "blank.log", "a\n\n\nb\n");
  using V = std::vector<std::string>;
  EXPECT_EQ(tail_lines(dir / "lf.log", 2).lines, (V{"three", "four"}));
  EXPECT_EQ(tail_lines(dir / "lf.log", 2).end, 19u);
  EXPECT_EQ(tail_lines(dir / "lf.log", 10).lines, (V{"one", "two", "three", "four"}));
  EXPECT_EQ(tail_lines(dir / "lf.log", 0).lines, V{});
  EXPECT_EQ(tail_lines(dir / "open.log", 2).lines, (V{"two", "three"}));
  EXPECT_EQ(tail_lines(dir / "crlf.log", 2).lines, (V{"two", "three"}));
  EXPECT_EQ(tail_lines(dir / "empty.log", 5).lines, V{});
  EXPECT_EQ(tail_lines(dir / "blank.log", 3).lines, (V{"", "", "b"}));
  EXPECT_THROW(tail_lines(dir / "missing.log", 5), Error);
}

TEST(CtlLogTail, ReadsOnlyTheEndOfABigFile) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 50000; ++i) text += "line " + std::to_string(i) + " of a long log\n";
  write(dir / "big.log", text);
  auto tail = tail_lines(dir / "big.log", 3);
  EXPECT_EQ(tail.lines,
            (std::vector<std::string>{"line 49997 of a long log", "line 49998 of a long log",
                                      "line 49999 of a long log"}));
  EXPECT_EQ(tail.end, text.size());
  // Across a block boundary: more lines than one 64 KiB block holds.
  auto many = tail_lines(dir / "big.log", 5000);
  ASSERT_EQ(many.lines.size(), 5000u);
  EXPECT_EQ(many.lines.front(), "line 45000 of a long log");
}

TEST(CtlLogTail, FollowingPrintsCompleteAppendedLinesAndSurvivesRotation) {
  TempDir dir;
  const fs::path log = dir / "tandem-llm.log";
  write(log, "2024-01-01T00:00:00.000001Z [info] started\n");
  LogFollower follower(log, tail_lines(log, 5).end);
  using V = std::vector<std::string>;
  EXPECT_EQ(follower.poll(), V{});
  append(log, "second\r\nthird, half");
  EXPECT_EQ(follower.poll(), V{"second"});
  append(log, " done\n");
  EXPECT_EQ(follower.poll(), V{"third, half done"});

  // Rotation: renamed away; until the new file exists there is nothing; then it is read whole.
  fs::rename(log, dir / "tandem-llm_20240101.log");
  EXPECT_EQ(follower.poll(), V{});
  write(log, "2024-01-01T00:00:09.000002Z [info] rotated, and a much longer first line\nnext\n");
  EXPECT_EQ(
      follower.poll(),
      (V{"2024-01-01T00:00:09.000002Z [info] rotated, and a much longer first line", "next"}));

  // Truncated (shorter than what was read): from the start again.
  write(log, "x\n");
  EXPECT_EQ(follower.poll(), V{"x"});
}

// --- waiting on several folders ------------------------------------------------------------------

// A FolderWatch a test triggers by hand; it reports each trigger once.
struct Trigger {
  std::mutex mutex;
  std::condition_variable_any changed;
  bool fired = false;
  void fire() {
    {
      std::lock_guard lock(mutex);
      fired = true;
    }
    changed.notify_all();
  }
};

class ManualWatch final : public FolderWatch {
 public:
  explicit ManualWatch(Trigger& trigger) : trigger_(trigger) {}
  bool wait_for_change(std::chrono::milliseconds timeout, std::stop_token stop) override {
    std::unique_lock lock(trigger_.mutex);
    const bool fired = trigger_.changed.wait_for(lock, stop, timeout,
                                                 [&] { return trigger_.fired && !reported_; });
    if (fired) reported_ = true;
    return fired;
  }

 private:
  Trigger& trigger_;
  bool reported_ = false;
};

TEST(CtlAnyFolderWatch, AChangeInAnyFolderWakesTheWaiter) {
  Trigger first, second;
  std::vector<std::unique_ptr<FolderWatch>> watches;
  watches.push_back(std::make_unique<ManualWatch>(first));
  watches.push_back(std::make_unique<ManualWatch>(second));
  AnyFolderWatch any(std::move(watches));
  EXPECT_FALSE(any.wait_for_change(50ms, {}));
  second.fire();
  EXPECT_TRUE(any.wait_for_change(10s, {}));
  EXPECT_FALSE(any.wait_for_change(50ms, {}));  // one change, one wake
  std::stop_source stop;
  stop.request_stop();
  EXPECT_FALSE(any.wait_for_change(10s, stop.get_token()));
}

class BrokenWatch final : public FolderWatch {
 public:
  bool wait_for_change(std::chrono::milliseconds, std::stop_token) override {
    throw Error("FindNextChangeNotification(done) failed");
  }
};

TEST(CtlAnyFolderWatch, AFailedWatchIsReportedNotSwallowed) {
  std::vector<std::unique_ptr<FolderWatch>> watches;
  watches.push_back(std::make_unique<BrokenWatch>());
  AnyFolderWatch any(std::move(watches));
  EXPECT_THROW(any.wait_for_change(10s, {}), Error);
}

}  // namespace
}  // namespace tandem::ctl
