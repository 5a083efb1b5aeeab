// The portable parts of tandemctl submit / jobs / logs: spool listing and the wait verdict, job
// validation and path rewriting, inbox naming and placement, log tails and following.
#include <gtest/gtest.h>

#include <condition_variable>
#include <fstream>
#include <mutex>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "ctl/any_folder_watch.h"
#include "ctl/job_listing.h"
#include "ctl/job_submit.h"
#include "ctl/log_tail.h"
#include "tests/support/temp_dir.h"

namespace tandem::ctl {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::TempDir;

void write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << text;
}

void append(const fs::path& file, const std::string& text) {
  std::ofstream(file, std::ios::binary | std::ios::app) << text;
}

std::vector<std::string> files_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(path_utf8(e.path().filename()));
  std::sort(names.begin(), names.end());
  return names;
}

// --- listing -----------------------------------------------------------------------------------

TEST(CtlJobListing, ClassifiesEachFolderAndSkipsWhatTheSpoolSkips) {
  TempDir root;
  write(root / "inbox" / "new.json", "{}");
  write(root / "inbox" / ".new.123.tmp", "{}");  // submit's temporary
  write(root / "inbox" / "notes.txt", "x");      // not a job
  write(root / "inbox" / ".hidden.json", "{}");  // hidden
  write(root / "active" / "busy-0123abcd.json", "{}");
  fs::create_directories(root / "active" / "busy-0123abcd.work");
  write(root / "active" / "busy-0123abcd.finish", "{}");
  write(root / "done" / "small-89abcdef.json", "{}");
  fs::create_directories(root / "done" / "small-89abcdef.work");
  write(root / "failed" / "bad.json", "{");
  write(root / "failed" / "bad.reason.txt", "bad.json:1:2: syntax error\nmore detail\n");

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
  EXPECT_EQ(jobs[3].reason, "bad.json:1:2: syntax error");
}

TEST(CtlJobListing, MissingFoldersHoldNoJobs) {
  TempDir root;
  EXPECT_TRUE(list_jobs(root / "nowhere").empty());
  EXPECT_EQ(jobs_text({}, std::nullopt), "");
  EXPECT_EQ(jobs_json({}, std::nullopt), nlohmann::json::array());
}

TEST(CtlJobListing, ReasonFirstLine) {
  TempDir dir;
  write(dir / "crlf.txt", "first\r\nsecond\r\n");
  write(dir / "one.txt", "only line without end");
  write(dir / "empty.txt", "");
  EXPECT_EQ(first_line(dir / "crlf.txt"), "first");
  EXPECT_EQ(first_line(dir / "one.txt"), "only line without end");
  EXPECT_EQ(first_line(dir / "empty.txt"), "");
  EXPECT_EQ(first_line(dir / "missing.txt"), "");
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

// --- submit ------------------------------------------------------------------------------------

TEST(CtlSubmit, RelativePathsBecomeAbsoluteAgainstTheJobFilesFolder) {
  TempDir dir;
  write(dir / "data" / "items.jsonl", "{\"text\":\"a\"}\n");
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

TEST(CtlSubmit, AnInvalidJobNamesFileLineAndField) {
  TempDir dir;
  write(dir / "items.jsonl", "");
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

TEST(CtlSubmit, JobNames) {
  EXPECT_FALSE(job_name_problem("sentiment-2024"));
  EXPECT_TRUE(job_name_problem(""));
  EXPECT_TRUE(job_name_problem(".hidden"));
  EXPECT_TRUE(job_name_problem("a/b"));
  EXPECT_TRUE(job_name_problem("a\\b"));
  EXPECT_TRUE(job_name_problem("c:x"));
  EXPECT_TRUE(job_name_problem("trailing."));
  EXPECT_EQ(job_name_problem("a*b"), "a job name must not contain '*'");
}

TEST(CtlSubmit, NamesNeverCollideAndNothingIsReplaced) {
  TempDir inbox;
  EXPECT_EQ(free_inbox_name(inbox.path(), "job"), "job");
  auto first = place_in_inbox(inbox.path(), "job", "one");
  auto second = place_in_inbox(inbox.path(), "job", "two");
  write(inbox / "job-3.json", "someone else's");
  auto fourth = place_in_inbox(inbox.path(), "job", "four");
  EXPECT_EQ(first, inbox / "job.json");
  EXPECT_EQ(second, inbox / "job-2.json");
  EXPECT_EQ(fourth, inbox / "job-4.json");
  EXPECT_EQ(read_file(first), "one");
  EXPECT_EQ(read_file(second), "two");
  EXPECT_EQ(read_file(inbox / "job-3.json"), "someone else's");
  EXPECT_EQ(read_file(fourth), "four");
  // No temporary left behind.
  EXPECT_EQ(files_in(inbox.path()),
            (std::vector<std::string>{"job-2.json", "job-3.json", "job-4.json", "job.json"}));
}

TEST(CtlSubmit, CreatesTheInboxAndReportsARefusedFolder) {
  TempDir root;
  auto placed = place_in_inbox(root / "jobs" / "inbox", "new", "{}");
  EXPECT_EQ(placed, root / "jobs" / "inbox" / "new.json");
  // A file where the folder should be: a clear Error naming it (not access denied).
  write(root / "blocked", "");
  try {
    place_in_inbox(root / "blocked" / "inbox", "x", "{}");
    ADD_FAILURE() << "no error";
  } catch (const AccessDenied& e) {
    ADD_FAILURE() << "not a permission problem: " << e.what();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("blocked"), std::string::npos) << e.what();
  }
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
