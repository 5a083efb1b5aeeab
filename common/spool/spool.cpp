#include "common/spool/spool.h"

#include <algorithm>
#include <system_error>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "common/log.h"
#include "common/spool/job_id.h"
#include "common/spool/layout.h"
#include "common/spool/listing.h"

namespace tandem::spool {
namespace fs = std::filesystem;
namespace {

bool present(const fs::path& p) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(p, ec));
}

// The jobs of `state`, oldest first (by modification time), then by name: the order they came.
std::vector<JobEntry> oldest_first(const fs::path& root, JobState state) {
  std::vector<JobEntry> jobs = list_jobs(root, state);  // in name order
  std::stable_sort(jobs.begin(), jobs.end(),
                   [](const JobEntry& a, const JobEntry& b) { return a.modified < b.modified; });
  return jobs;
}

// `stem`, or `stem-1`, `stem-2`, ... : the first name whose job file, work folder and finish
// marker are all free in `dir`, so nothing already there is ever replaced or taken for another.
std::string free_name(const fs::path& dir, const std::string& stem, std::string_view extension) {
  for (int n = 0;; ++n) {
    std::string name = n == 0 ? stem : stem + "-" + std::to_string(n);
    if (!present(job_path(dir, name, extension)) && !present(job_path(dir, name, kWorkSuffix)) &&
        !present(job_path(dir, name, kFinishSuffix))) {
      return name;
    }
  }
}

}  // namespace

Spool::Spool(fs::path root, FileSystem& fs)
    : fs_(fs),
      root_(std::move(root)),
      inbox_(state_folder(root_, JobState::queued)),
      active_(state_folder(root_, JobState::running)),
      done_(state_folder(root_, JobState::done)),
      failed_(state_folder(root_, JobState::failed)) {
  for (const auto& dir : {inbox_, active_, done_, failed_}) fs_.create_directories(dir);
  recover_finishes();
}

std::optional<Job> Spool::claim_next() {
  for (const JobEntry& queued : oldest_first(root_, JobState::queued)) {
    const fs::path& file = queued.file;
    std::optional<std::string> text;
    try {
      text = fs_.read_if_exists(file);
    } catch (const Error& e) {
      // Windows keeps a file locked while it is copied in; it is claimed once readable.
      TLOG(debug) << "job file not readable yet, left in the inbox: " << e.what();
      continue;
    }
    if (!text) continue;  // removed since listed
    std::optional<JobSpec> spec;
    try {
      spec = parse_job_spec(path_utf8(file), *text, inbox_, PathCheck::exists);
    } catch (const InputError& e) {
      reject(file, e.what());
      continue;
    }
    std::string id = free_name(active_, make_job_id(queued.id, *text), kJobExtension);
    Job job{id, job_path(active_, id, kJobExtension), job_path(active_, id, kWorkSuffix),
            std::move(*spec)};
    fs_.rename(file, job.file);  // the claim: one rename on one volume
    fs_.create_directories(job.work_dir);
    TLOG(info) << "job " << job.id << " (\"" << job.spec.name << "\") claimed from "
               << path_utf8(file);
    return job;
  }
  return std::nullopt;
}

void Spool::reject(const fs::path& file, const std::string& reason) {
  std::string ext = path_utf8(file.extension());  // as the person spelled it
  std::string name = free_name(failed_, path_utf8(file.stem()), ext);
  // The reason first: a crash before the move leaves the job in the inbox, and the retry picks
  // the same free name and rewrites this file.
  fs_.write_atomically(job_path(failed_, name, kReasonSuffix), reason + "\n");
  fs_.rename(file, job_path(failed_, name, ext));
  TLOG(warning) << "job file rejected, moved to " << path_utf8(job_path(failed_, name, ext)) << ": "
                << reason;
  if (on_rejected_) on_rejected_(name, reason);
}

std::optional<Job> Spool::load_active(const fs::path& file) {
  const std::string id = path_utf8(file.stem());
  Job job{id, file, job_path(file.parent_path(), id, kWorkSuffix), {}};
  try {
    auto text = fs_.read_if_exists(file);
    if (!text) return std::nullopt;
    job.spec = parse_job_spec(path_utf8(file), *text, inbox_, PathCheck::exists, job_stem(job.id));
  } catch (const InputError& e) {
    finish(job, false, std::string("no longer valid when resumed: ") + e.what());
    return std::nullopt;
  }
  fs_.create_directories(job.work_dir);  // a crash may have come between claim and this
  return job;
}

std::vector<Job> Spool::active_jobs() {
  recover_finishes();  // a finish that failed earlier in this run is retried first
  std::vector<Job> jobs;
  for (const JobEntry& active : oldest_first(root_, JobState::running)) {
    if (auto job = load_active(active.file)) jobs.push_back(std::move(*job));
  }
  return jobs;
}

fs::path Spool::finish(const Job& job, bool ok, const std::string& reason) {
  if (!present(job_path(active_, job.id, kJobExtension))) {
    throw Error("cannot finish job " + job.id + ": it is not in " + path_utf8(active_));
  }
  const fs::path& dir = ok ? done_ : failed_;
  Outcome outcome{ok, reason, free_name(dir, job.id, kJobExtension)};
  nlohmann::json marker = {{"ok", ok}, {"reason", reason}, {"name", outcome.name}};
  // A reason may quote bytes that are not UTF-8 (a system message in a legacy code page).
  fs_.write_atomically(job_path(active_, job.id, kFinishSuffix),
                       marker.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  complete_finish(job.id, outcome);
  const fs::path moved = job_path(dir, outcome.name, kJobExtension);
  TLOG(info) << "job " << job.id << (ok ? " done" : " failed") << ", moved to " << path_utf8(moved)
             << (ok ? "" : ": " + reason);
  return moved;
}

// Each step checks what is still to do, so running it again after a crash completes the move.
void Spool::complete_finish(const std::string& id, const Outcome& outcome) {
  const fs::path& dir = outcome.ok ? done_ : failed_;
  if (!outcome.ok) {
    fs_.write_atomically(job_path(dir, outcome.name, kReasonSuffix), outcome.reason + "\n");
  }
  // The job file last: while it is in active/, the job is active.
  for (std::string_view suffix : {kWorkSuffix, kJobExtension}) {
    const fs::path from = job_path(active_, id, suffix);
    const fs::path to = job_path(dir, outcome.name, suffix);
    if (!present(from)) continue;
    if (present(to))
      throw Error("cannot finish job " + id + ": " + path_utf8(to) + " is in the way");
    fs_.rename(from, to);
  }
  fs_.remove(job_path(active_, id, kFinishSuffix));
}

void Spool::recover_finishes() {
  for (const fs::path& marker : finish_markers(root_)) {
    auto text = fs_.read_if_exists(marker);
    if (!text) continue;
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.value("ok", nlohmann::json()).is_boolean() ||
        !j.value("reason", nlohmann::json()).is_string() ||
        !j.value("name", nlohmann::json()).is_string()) {
      throw Error("corrupt finish marker " + path_utf8(marker));
    }
    Outcome outcome{j["ok"].get<bool>(), j["reason"].get<std::string>(),
                    j["name"].get<std::string>()};
    std::string id = path_utf8(marker.stem());
    TLOG(warning) << "completing the finish of job " << id << " that a stop interrupted";
    complete_finish(id, outcome);
  }
}

}  // namespace tandem::spool
