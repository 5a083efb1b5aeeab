#include "ctl/job_listing.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <system_error>

#include "common/files.h"
#include "trainer/jobs/job_spec.h"

namespace tandem::ctl {
namespace fs = std::filesystem;
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The spool's own rule (trainer/jobs/spool.cpp): regular *.json files, not hidden.
void scan(const fs::path& dir, JobState state, std::vector<JobEntry>& out) {
  std::vector<JobEntry> found;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    const std::string file_name = path_utf8(p.filename());
    std::error_code entry_ec;
    if (!it->is_regular_file(entry_ec) || file_name.empty() || file_name[0] == '.') continue;
    if (lower(path_utf8(p.extension())) != ".json") continue;
    JobEntry job;
    job.state = state;
    job.id = path_utf8(p.stem());
    job.name = state == JobState::queued ? job.id : jobs::job_stem(job.id);
    job.file = p;
    if (state != JobState::queued) job.work_dir = dir / (job.id + ".work");
    if (state == JobState::failed) job.reason = first_line(dir / (job.id + ".reason.txt"));
    job.modified = it->last_write_time(entry_ec);
    found.push_back(std::move(job));
  }
  // A missing folder holds no jobs; one that cannot be listed is worth saying.
  if (ec && ec != std::errc::no_such_file_or_directory) {
    throw std::system_error(ec, "cannot list " + path_utf8(dir));
  }
  std::sort(found.begin(), found.end(),
            [](const JobEntry& a, const JobEntry& b) { return a.id < b.id; });
  for (auto& job : found) out.push_back(std::move(job));
}

std::string progress_text(const JobEntry& job, const std::optional<TrainerProgress>& progress) {
  if (job.state != JobState::running || !progress || progress->job != job.id) return {};
  std::string text =
      std::to_string(progress->items_done) + "/" + std::to_string(progress->items_total) + " items";
  if (!progress->state.empty() && progress->state != "working")
    text += " (" + progress->state + ")";
  return text;
}

}  // namespace

std::string_view to_string(JobState state) {
  switch (state) {
    case JobState::queued:
      return "queued";
    case JobState::running:
      return "running";
    case JobState::done:
      return "done";
    case JobState::failed:
      return "failed";
  }
  return "queued";
}

std::vector<JobEntry> list_jobs(const fs::path& root) {
  std::vector<JobEntry> jobs;
  scan(root / "inbox", JobState::queued, jobs);
  scan(root / "active", JobState::running, jobs);
  scan(root / "done", JobState::done, jobs);
  scan(root / "failed", JobState::failed, jobs);
  return jobs;
}

std::string first_line(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::string line;
  if (!in || !std::getline(in, line)) return {};
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

nlohmann::json jobs_json(const std::vector<JobEntry>& jobs,
                         const std::optional<TrainerProgress>& progress) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& job : jobs) {
    nlohmann::json j = {{"id", job.id},
                        {"name", job.name},
                        {"state", std::string(to_string(job.state))},
                        {"file", path_utf8(job.file)}};
    if (!job.work_dir.empty()) j["work_dir"] = path_utf8(job.work_dir);
    if (job.state == JobState::failed) j["reason"] = job.reason;
    if (job.state == JobState::running && progress && progress->job == job.id) {
      j["items_done"] = progress->items_done;
      j["items_total"] = progress->items_total;
      j["trainer_state"] = progress->state;
    }
    out.push_back(std::move(j));
  }
  return out;
}

std::string jobs_text(const std::vector<JobEntry>& jobs,
                      const std::optional<TrainerProgress>& progress) {
  std::ostringstream out;
  for (const auto& job : jobs) {
    std::string state(to_string(job.state));
    out << state << std::string(9 - std::min<std::size_t>(state.size(), 8), ' ') << job.id;
    std::string detail = job.state == JobState::failed ? job.reason : progress_text(job, progress);
    if (!detail.empty()) out << "  " << detail;
    out << "\n";
  }
  return out.str();
}

WaitVerdict wait_verdict(const std::vector<JobEntry>& jobs, std::string_view name) {
  WaitVerdict verdict;
  const JobEntry* finished = nullptr;
  for (const auto& job : jobs) {
    if (job.name != name && job.id != name) continue;
    if (job.state == JobState::queued || job.state == JobState::running) {
      verdict.job = job;
      return verdict;
    }
    if (!finished || job.modified > finished->modified) finished = &job;
  }
  if (finished) {
    verdict.ended = true;
    verdict.job = *finished;
  }
  return verdict;
}

}  // namespace tandem::ctl
