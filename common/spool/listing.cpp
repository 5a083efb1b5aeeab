#include "common/spool/listing.h"

#include <algorithm>
#include <fstream>
#include <system_error>

#include "common/error.h"
#include "common/files.h"
#include "common/spool/job_id.h"

namespace tandem::spool {
namespace fs = std::filesystem;
namespace {

enum class Missing { empty, error };

struct Found {
  fs::path path;
  std::string stem;
  fs::file_time_type modified;
};

// The files of `dir` that is_spool_file() picks for `suffix`, in name order.
std::vector<Found> files_in(const fs::path& dir, std::string_view suffix, Missing missing) {
  std::vector<Found> found;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    const std::string file_name = path_utf8(p.filename());
    std::error_code entry_ec;
    if (!it->is_regular_file(entry_ec) || !is_spool_file(file_name, suffix)) continue;
    auto modified = it->last_write_time(entry_ec);
    if (entry_ec) continue;  // gone since listed
    found.push_back({p, file_name.substr(0, file_name.size() - suffix.size()), modified});
  }
  if (ec && !(missing == Missing::empty && ec == std::errc::no_such_file_or_directory)) {
    throw Error("cannot list " + path_utf8(dir) + ": " + ec.message());
  }
  std::sort(found.begin(), found.end(),
            [](const Found& a, const Found& b) { return a.stem < b.stem; });
  return found;
}

void add_jobs(const fs::path& root, JobState state, Missing missing, std::vector<JobEntry>& out) {
  const fs::path dir = state_folder(root, state);
  for (Found& f : files_in(dir, kJobExtension, missing)) {
    JobEntry job;
    job.state = state;
    job.id = std::move(f.stem);
    job.name = state == JobState::queued ? job.id : job_stem(job.id);
    job.file = std::move(f.path);
    job.modified = f.modified;
    if (state != JobState::queued) job.work_dir = job_path(dir, job.id, kWorkSuffix);
    if (state == JobState::failed) {
      job.reason_file = job_path(dir, job.id, kReasonSuffix);
      job.reason = first_line(job.reason_file);
    }
    out.push_back(std::move(job));
  }
}

}  // namespace

std::vector<JobEntry> list_jobs(const fs::path& root) {
  std::vector<JobEntry> jobs;
  for (JobState state : {JobState::queued, JobState::running, JobState::done, JobState::failed}) {
    add_jobs(root, state, Missing::empty, jobs);
  }
  return jobs;
}

std::vector<JobEntry> list_jobs(const fs::path& root, JobState state) {
  std::vector<JobEntry> jobs;
  add_jobs(root, state, Missing::error, jobs);
  return jobs;
}

std::vector<fs::path> finish_markers(const fs::path& root) {
  std::vector<fs::path> markers;
  for (Found& f : files_in(state_folder(root, JobState::running), kFinishSuffix, Missing::error)) {
    markers.push_back(std::move(f.path));
  }
  return markers;
}

std::string first_line(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::string line;
  if (!in || !std::getline(in, line)) return {};
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace tandem::spool
