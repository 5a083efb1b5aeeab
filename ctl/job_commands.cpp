// submit, jobs, logs: the trainer's spool folders and the services' log files. The folder and
// file logic is common/spool, job_listing and log_tail; the trainer's published progress and the
// change notifications to wait on come through the Platform.
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
#include "ctl/any_folder_watch.h"
#include "ctl/commands.h"
#include "ctl/job_listing.h"
#include "ctl/log_tail.h"

namespace tandem::ctl {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

// Where the trainer keeps its spool: the folder it asks paths::jobs_dir for, from the same file.
fs::path jobs_root(const Platform& p) {
  return paths::jobs_dir(load_trainer_config(p.trainer_config));
}

std::string still_waiting(const Platform& p, const WaitVerdict& verdict, const std::string& name,
                          const fs::path& root) {
  if (!verdict.job) return "no job named '" + name + "' in " + path_utf8(root);
  if (verdict.job->state == spool::JobState::queued) {
    return "it is still queued in " + path_utf8(verdict.job->file.parent_path()) + " (is " +
           p.trainer_service + " running? `tandemctl status`)";
  }
  auto progress = p.read_trainer_status();
  std::string text = "it is still running as " + verdict.job->id;
  if (progress && progress->job == verdict.job->id) {
    const std::string figures = describe_training(progress->training);
    text += " (" + std::to_string(progress->items_done) + "/" +
            std::to_string(progress->items_total) + " items, " +
            (figures.empty() ? std::string() : figures + ", ") + "trainer " + progress->state + ")";
  }
  return text;
}

// Blocks until the job `name` has ended, woken by changes in done/ and failed/ (where a job
// lands when it ends), bounded by `seconds`.
int wait_for_job(const Platform& p, const fs::path& root, const std::string& name, long seconds) {
  std::vector<std::unique_ptr<FolderWatch>> watches;
  for (spool::JobState state : {spool::JobState::done, spool::JobState::failed}) {
    const fs::path folder = spool::state_folder(root, state);
    if (!fs::is_directory(folder)) {
      throw Error("no spool at " + path_utf8(root) + " (no " + path_utf8(folder.filename()) +
                  " folder): has " + p.trainer_service + " run?");
    }
    watches.push_back(p.make_watch(folder));
  }
  AnyFolderWatch watch(std::move(watches));  // armed before the first look: nothing slips by
  const auto deadline = Clock::now() + std::chrono::seconds(seconds);
  for (;;) {
    const WaitVerdict verdict = wait_verdict(spool::list_jobs(root), name);
    if (verdict.ended && verdict.job->state == spool::JobState::done) {
      std::fprintf(p.out, "%s\n", path_utf8(verdict.job->work_dir).c_str());
      std::fflush(p.out);  // the answer before the remark, where both go to one file
      std::fprintf(p.err, "tandemctl: job %s done; its outputs are in that folder\n",
                   verdict.job->id.c_str());
      return kOk;
    }
    if (verdict.ended) {
      const fs::path& reason_file = verdict.job->reason_file;
      std::string reason = read_file_if_exists(reason_file).value_or(verdict.job->reason);
      while (!reason.empty() && (reason.back() == '\n' || reason.back() == '\r')) reason.pop_back();
      std::fprintf(p.err, "tandemctl: job %s failed: %s\ntandemctl: see %s\n",
                   verdict.job->id.c_str(), reason.c_str(), path_utf8(reason_file).c_str());
      return kNotReady;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left <= std::chrono::milliseconds(0)) {
      std::fprintf(p.err, "tandemctl: job '%s' did not end within %ld s: %s\n", name.c_str(),
                   seconds, still_waiting(p, verdict, name, root).c_str());
      return kNotReady;
    }
    watch.wait_for_change(left, p.stop);
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

void print_lines(const Platform& p, const std::vector<std::string>& lines) {
  for (const auto& line : lines) std::fprintf(p.out, "%s\n", line.c_str());
  std::fflush(p.out);
}

}  // namespace

int submit_command(Args& args, Platform& p) {
  auto name = args.option("--name");  // options first: their values are not positionals
  auto file = args.positional();
  args.done();
  if (!file) throw UsageError("submit: name the job file (JOB.json)");
  const fs::path path = path_from_utf8(*file);
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
    std::fprintf(p.err, "tandemctl: %s\ntandemctl: nothing was submitted\n", e.what());
    return kUsage;
  }
  fs::path placed;
  try {
    placed = spool::submit_job(jobs_root(p), stem, job);
  } catch (const spool::AccessDenied& e) {
    std::fprintf(p.err, "tandemctl: %s\ntandemctl: %s\n", e.what(), p.jobs_access_hint.c_str());
    return kDenied;
  }
  std::fprintf(p.out, "%s\n", path_utf8(placed).c_str());
  std::fflush(p.out);  // the answer before the remark, where both go to one file
  const std::string queued = path_utf8(placed.stem());
  std::fprintf(p.err, "tandemctl: queued as '%s'; wait for it with `tandemctl jobs --wait %s`\n",
               queued.c_str(), queued.c_str());
  return kOk;
}

int jobs_command(Args& args, Platform& p) {
  const bool as_json = args.flag("--json");
  auto name = args.option("--wait");
  auto timeout = args.option("--timeout");
  args.done();
  if (timeout && !name) throw UsageError("jobs: --timeout goes with --wait NAME");
  const long seconds = timeout ? parse_seconds("--timeout", *timeout) : 600;
  const fs::path root = jobs_root(p);
  if (name) return wait_for_job(p, root, *name, seconds);
  const auto jobs = spool::list_jobs(root);
  const auto progress = p.read_trainer_status();
  if (as_json) {
    std::fprintf(p.out, "%s\n", jobs_json(jobs, progress).dump(2).c_str());
  } else if (jobs.empty()) {
    std::fprintf(p.out, "no jobs in %s\n", path_utf8(root).c_str());
  } else {
    std::fprintf(p.out, "%s", jobs_text(jobs, progress).c_str());
  }
  return kOk;
}

int logs_command(Args& args, Platform& p) {
  auto lines = args.option("--lines");  // options first: their values are not positionals
  const bool follow = args.flag("--follow");
  auto word = args.positional();
  args.done();
  if (word && *word != "llm" && *word != "trainer") {
    throw UsageError("logs: unknown service '" + *word + "': use llm or trainer");
  }
  const std::size_t count = lines ? parse_count("--lines", *lines) : 50;
  const fs::path file =
      p.logs_dir / (word && *word == "trainer" ? "tandem-trainer.log" : "tandem-llm.log");
  if (!fs::exists(file)) {
    std::fprintf(p.err, "tandemctl: no log at %s yet: has the service run?\n",
                 path_utf8(file).c_str());
    return kNotReady;
  }
  const Tail tail = tail_lines(file, count);
  print_lines(p, tail.lines);
  if (!follow) return kOk;
  auto watch = p.make_watch(p.logs_dir);
  LogFollower follower(file, tail.end);
  // Until Ctrl+C; a quiet spell is read again after follow_bound, as FolderWatch allows.
  while (!p.stop.stop_requested()) {
    watch->wait_for_change(p.follow_bound, p.stop);
    print_lines(p, follower.poll());
  }
  return kOk;
}

}  // namespace tandem::ctl
