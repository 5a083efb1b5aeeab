// submit, jobs, logs: the trainer's spool folders and the services' log files. The folder and
// file logic is portable (common/spool, job_listing, log_tail); this file adds the Windows parts:
// the trainer's published progress and change notifications to wait on.
#include <windows.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/error.h"
#include "common/files.h"
#include "common/paths.h"
#include "common/spool/submit.h"
#include "common/win32/folder_watch.h"
#include "common/win32/trainer_registry.h"
#include "ctl/any_folder_watch.h"
#include "ctl/commands.h"
#include "ctl/job_listing.h"
#include "ctl/log_tail.h"

namespace tandem::ctl {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

fs::path from_utf8(const std::string& s) {
  return fs::path(std::u8string(s.begin(), s.end()));
}

// Where the trainer keeps its spool: trainer.json's jobs_dir, else the data folder's jobs\.
fs::path jobs_root() {
  const TrainerConfig config = load_trainer_config(paths::trainer_config());
  return config.jobs_dir.empty() ? paths::jobs_dir() : from_utf8(config.jobs_dir);
}

std::string still_waiting(const WaitVerdict& verdict, const std::string& name,
                          const fs::path& root) {
  if (!verdict.job) return "no job named '" + name + "' in " + path_utf8(root);
  if (verdict.job->state == spool::JobState::queued) {
    return "it is still queued in " + path_utf8(verdict.job->file.parent_path()) +
           " (is TandemTrainer running? `tandemctl status`)";
  }
  auto progress = win32::read_trainer_registry();
  std::string text = "it is still running as " + verdict.job->id;
  if (progress && progress->job == verdict.job->id) {
    text += " (" + std::to_string(progress->items_done) + "/" +
            std::to_string(progress->items_total) + " items, trainer " + progress->state + ")";
  }
  return text;
}

// Blocks until the job `name` has ended, woken by changes in done\ and failed\ (where a job
// lands when it ends), bounded by `seconds`.
int wait_for_job(const fs::path& root, const std::string& name, long seconds) {
  std::vector<std::unique_ptr<FolderWatch>> watches;
  for (spool::JobState state : {spool::JobState::done, spool::JobState::failed}) {
    const fs::path folder = spool::state_folder(root, state);
    if (!fs::is_directory(folder)) {
      throw Error("no spool at " + path_utf8(root) + " (no " + path_utf8(folder.filename()) +
                  " folder): has TandemTrainer run?");
    }
    watches.push_back(std::make_unique<win32::ChangeNotificationWatch>(folder));
  }
  AnyFolderWatch watch(std::move(watches));  // armed before the first look: nothing slips by
  const auto deadline = Clock::now() + std::chrono::seconds(seconds);
  for (;;) {
    const WaitVerdict verdict = wait_verdict(spool::list_jobs(root), name);
    if (verdict.ended && verdict.job->state == spool::JobState::done) {
      std::printf("%s\n", path_utf8(verdict.job->work_dir).c_str());
      std::fprintf(stderr, "tandemctl: job %s done; its outputs are in that folder\n",
                   verdict.job->id.c_str());
      return kOk;
    }
    if (verdict.ended) {
      const fs::path& reason_file = verdict.job->reason_file;
      std::string reason = read_file_if_exists(reason_file).value_or(verdict.job->reason);
      while (!reason.empty() && (reason.back() == '\n' || reason.back() == '\r')) reason.pop_back();
      std::fprintf(stderr, "tandemctl: job %s failed: %s\ntandemctl: see %s\n",
                   verdict.job->id.c_str(), reason.c_str(), path_utf8(reason_file).c_str());
      return kNotReady;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left <= std::chrono::milliseconds(0)) {
      std::fprintf(stderr, "tandemctl: job '%s' did not end within %ld s: %s\n", name.c_str(),
                   seconds, still_waiting(verdict, name, root).c_str());
      return kNotReady;
    }
    watch.wait_for_change(left, {});
  }
}

std::size_t parse_count(std::string_view option, const std::string& text) {
  constexpr std::size_t kMax = 1000000;
  std::size_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value > kMax) {
    throw UsageError(std::string(option) + " takes a whole number from 0 to " +
                     std::to_string(kMax) + ", got '" + text + "'");
  }
  return value;
}

void print_lines(const std::vector<std::string>& lines) {
  for (const auto& line : lines) std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

}  // namespace

int submit_command(Args& args) {
  auto name = args.option("--name");  // options first: their values are not positionals
  auto file = args.positional();
  args.done();
  if (!file) throw UsageError("submit: name the job file (JOB.json)");
  const fs::path path = from_utf8(*file);
  auto text = read_file_if_exists(path);
  if (!text) throw UsageError("submit: no job file '" + *file + "'");
  const std::string stem = name ? *name : path_utf8(path.stem());
  if (auto problem = spool::job_name_problem(stem)) {
    throw UsageError("submit: job name '" + stem + "': " + *problem +
                     (name ? "" : "; choose one with --name"));
  }
  std::string job;
  try {
    job = spool::absolute_job(*file, *text, fs::absolute(path).parent_path());
  } catch (const InputError& e) {
    std::fprintf(stderr, "tandemctl: %s\ntandemctl: nothing was submitted\n", e.what());
    return kUsage;
  }
  fs::path placed;
  try {
    placed = spool::submit_job(jobs_root(), stem, job);
  } catch (const spool::AccessDenied& e) {
    std::fprintf(stderr,
                 "tandemctl: %s\ntandemctl: writing in the jobs folder needs an elevated "
                 "(administrator) prompt\n",
                 e.what());
    return kDenied;
  }
  std::printf("%s\n", path_utf8(placed).c_str());
  const std::string queued = path_utf8(placed.stem());
  std::fprintf(stderr, "tandemctl: queued as '%s'; wait for it with `tandemctl jobs --wait %s`\n",
               queued.c_str(), queued.c_str());
  return kOk;
}

int jobs_command(Args& args) {
  const bool as_json = args.flag("--json");
  auto name = args.option("--wait");
  auto timeout = args.option("--timeout");
  args.done();
  if (timeout && !name) throw UsageError("jobs: --timeout goes with --wait NAME");
  const long seconds = timeout ? parse_seconds("--timeout", *timeout) : 600;
  const fs::path root = jobs_root();
  if (name) return wait_for_job(root, *name, seconds);
  const auto jobs = spool::list_jobs(root);
  const auto progress = win32::read_trainer_registry();
  if (as_json) {
    std::printf("%s\n", jobs_json(jobs, progress).dump(2).c_str());
  } else if (jobs.empty()) {
    std::printf("no jobs in %s\n", path_utf8(root).c_str());
  } else {
    std::printf("%s", jobs_text(jobs, progress).c_str());
  }
  return kOk;
}

int logs_command(Args& args) {
  auto lines = args.option("--lines");  // options first: their values are not positionals
  const bool follow = args.flag("--follow");
  auto word = args.positional();
  args.done();
  if (word && *word != "llm" && *word != "trainer") {
    throw UsageError("logs: unknown service '" + *word + "': use llm or trainer");
  }
  const std::size_t count = lines ? parse_count("--lines", *lines) : 50;
  const fs::path folder = paths::logs_dir();
  const fs::path file =
      folder / (word && *word == "trainer" ? "tandem-trainer.log" : "tandem-llm.log");
  if (!fs::exists(file)) {
    std::fprintf(stderr, "tandemctl: no log at %s yet: has the service run?\n",
                 path_utf8(file).c_str());
    return kNotReady;
  }
  const Tail tail = tail_lines(file, count);
  print_lines(tail.lines);
  if (!follow) return kOk;
  win32::ChangeNotificationWatch watch(folder);
  LogFollower follower(file, tail.end);
  // Until Ctrl+C. Windows may report the size of a file still open for writing only when its
  // cache is flushed, so a quiet spell is read again after a bound, as FolderWatch allows.
  for (;;) {
    watch.wait_for_change(std::chrono::seconds(2), {});
    print_lines(follower.poll());
  }
}

}  // namespace tandem::ctl
