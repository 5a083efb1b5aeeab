#include "trainer/jobs/spool.h"

#include <algorithm>
#include <cctype>
#include <system_error>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "common/log.h"

namespace tandem::jobs {
namespace fs = std::filesystem;
namespace {

constexpr const char* kJobExtension = ".json";
constexpr const char* kWorkSuffix = ".work";
constexpr const char* kReasonSuffix = ".reason.txt";
constexpr const char* kFinishSuffix = ".finish";

bool present(const fs::path& p) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(p, ec));
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Files in `dir` ending in `extension` (any case), oldest first, then by name. Hidden files and
// temporaries (name.json.tmp, as an atomic submit writes them) do not match.
std::vector<fs::path> files_with(const fs::path& dir, const std::string& extension) {
  struct Entry {
    fs::file_time_type time;
    fs::path path;
  };
  std::vector<Entry> entries;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    std::string name = path_utf8(p.filename());
    std::error_code entry_ec;
    if (!it->is_regular_file(entry_ec) || name.empty() || name[0] == '.') continue;
    if (lower(path_utf8(p.extension())) != extension) continue;
    auto time = it->last_write_time(entry_ec);
    if (entry_ec) continue;  // gone since listed
    entries.push_back({time, p});
  }
  if (ec) throw Error("cannot list " + path_utf8(dir) + ": " + ec.message());
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.time != b.time ? a.time < b.time : a.path.filename() < b.path.filename();
  });
  std::vector<fs::path> out;
  for (auto& e : entries) out.push_back(std::move(e.path));
  return out;
}

// `stem`, or `stem-1`, `stem-2`, ... : the first name whose job file, work folder and finish
// marker are all free in `dir`, so nothing already there is ever replaced or taken for another.
std::string free_name(const fs::path& dir, const std::string& stem, const std::string& extension) {
  for (int n = 0;; ++n) {
    std::string name = n == 0 ? stem : stem + "-" + std::to_string(n);
    if (!present(dir / (name + extension)) && !present(dir / (name + kWorkSuffix)) &&
        !present(dir / (name + kFinishSuffix))) {
      return name;
    }
  }
}

}  // namespace

Spool::Spool(fs::path root, FileSystem& fs)
    : fs_(fs),
      inbox_(root / "inbox"),
      active_(root / "active"),
      done_(root / "done"),
      failed_(root / "failed") {
  for (const auto& dir : {inbox_, active_, done_, failed_}) fs_.create_directories(dir);
  recover_finishes();
}

std::optional<Job> Spool::claim_next() {
  for (const fs::path& file : files_with(inbox_, kJobExtension)) {
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
    std::string id = free_name(active_, make_job_id(path_utf8(file.stem()), *text), kJobExtension);
    Job job{id, active_ / (id + kJobExtension), active_ / (id + kWorkSuffix), std::move(*spec)};
    fs_.rename(file, job.file);  // the claim: one rename on one volume
    fs_.create_directories(job.work_dir);
    TLOG(info) << "job " << job.id << " (\"" << job.spec.name << "\") claimed from "
               << path_utf8(file);
    return job;
  }
  return std::nullopt;
}

void Spool::reject(const fs::path& file, const std::string& reason) {
  std::string ext = path_utf8(file.extension());
  std::string name = free_name(failed_, path_utf8(file.stem()), ext);
  // The reason first: a crash before the move leaves the job in the inbox, and the retry picks
  // the same free name and rewrites this file.
  fs_.write_atomically(failed_ / (name + kReasonSuffix), reason + "\n");
  fs_.rename(file, failed_ / (name + ext));
  TLOG(warning) << "job file rejected, moved to " << path_utf8(failed_ / (name + ext)) << ": "
                << reason;
  if (on_rejected_) on_rejected_(name, reason);
}

std::optional<Job> Spool::load_active(const fs::path& file) {
  Job job{path_utf8(file.stem()),
          file,
          file.parent_path() / (path_utf8(file.stem()) + kWorkSuffix),
          {}};
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
  for (const fs::path& file : files_with(active_, kJobExtension)) {
    if (auto job = load_active(file)) jobs.push_back(std::move(*job));
  }
  return jobs;
}

fs::path Spool::finish(const Job& job, bool ok, const std::string& reason) {
  if (!present(active_ / (job.id + kJobExtension))) {
    throw Error("cannot finish job " + job.id + ": it is not in " + path_utf8(active_));
  }
  const fs::path& dir = ok ? done_ : failed_;
  Outcome outcome{ok, reason, free_name(dir, job.id, kJobExtension)};
  nlohmann::json marker = {{"ok", ok}, {"reason", reason}, {"name", outcome.name}};
  // A reason may quote bytes that are not UTF-8 (a system message in a legacy code page).
  fs_.write_atomically(active_ / (job.id + kFinishSuffix),
                       marker.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  complete_finish(job.id, outcome);
  TLOG(info) << "job " << job.id << (ok ? " done" : " failed") << ", moved to "
             << path_utf8(dir / (outcome.name + kJobExtension)) << (ok ? "" : ": " + reason);
  return dir / (outcome.name + kJobExtension);
}

// Each step checks what is still to do, so running it again after a crash completes the move.
void Spool::complete_finish(const std::string& id, const Outcome& outcome) {
  const fs::path& dir = outcome.ok ? done_ : failed_;
  if (!outcome.ok) {
    fs_.write_atomically(dir / (outcome.name + kReasonSuffix), outcome.reason + "\n");
  }
  const std::pair<std::string, std::string> moves[] = {
      {id + kWorkSuffix, outcome.name + kWorkSuffix},
      {id + kJobExtension, outcome.name + kJobExtension}};  // the job file last: it marks "active"
  for (const auto& [from, to] : moves) {
    if (!present(active_ / from)) continue;
    if (present(dir / to)) {
      throw Error("cannot finish job " + id + ": " + path_utf8(dir / to) + " is in the way");
    }
    fs_.rename(active_ / from, dir / to);
  }
  fs_.remove(active_ / (id + kFinishSuffix));
}

void Spool::recover_finishes() {
  for (const fs::path& marker : files_with(active_, kFinishSuffix)) {
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

}  // namespace tandem::jobs
