// What `tandemctl jobs` shows: the spool's folders read as a list of jobs, and whether a job a
// person waits for has ended. Portable: it only reads folders (docs/architecture.md#jobs-spool).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/trainer_published.h"

namespace tandem::ctl {

enum class JobState { queued, running, done, failed };
std::string_view to_string(JobState state);

struct JobEntry {
  JobState state = JobState::queued;
  std::string id;    // the file's stem: "<stem>-<hash>" once claimed, the inbox name before
  std::string name;  // what `jobs --wait` matches: jobs::job_stem(id) once claimed
  std::filesystem::path file;
  std::filesystem::path work_dir;  // running/done/failed: <id>.work beside the file (may be gone)
  std::string reason;              // failed: the first line of <id>.reason.txt
  std::filesystem::file_time_type modified{};
};

// Every job in `root`'s inbox/ (queued), active/ (running), done/ and failed/, each folder in
// name order. Missing folders hold no jobs; hidden files and temporaries are not jobs.
std::vector<JobEntry> list_jobs(const std::filesystem::path& root);

// The first line of `file` without its line end; empty when it is missing or empty.
std::string first_line(const std::filesystem::path& file);

// Progress of the running job as the trainer publishes it, when it does.
using TrainerProgress = TrainerPublished;

nlohmann::json jobs_json(const std::vector<JobEntry>& jobs,
                         const std::optional<TrainerProgress>& progress);
// One line per job: state, id, progress or reason.
std::string jobs_text(const std::vector<JobEntry>& jobs,
                      const std::optional<TrainerProgress>& progress);

// Where a job `name` (a job stem, or a whole id) stands for `jobs --wait`: it has ended once no
// job of that name is queued or running and one is in done/ or failed/ (the newest counts).
struct WaitVerdict {
  bool ended = false;
  std::optional<JobEntry> job;  // ended: the finished one; else the queued/running one, if any
};
WaitVerdict wait_verdict(const std::vector<JobEntry>& jobs, std::string_view name);

}  // namespace tandem::ctl
