// The spool's folders and file names, for the trainer that runs jobs and tandemctl that submits
// and lists them. Under the jobs folder: inbox/ (queued), active/ (running), done/ and failed/. A
// job in one of them is <id>.json; from its claim on it has a work folder <id>.work/ beside it, in
// failed/ a reason <id>.reason.txt, and in active/, while it is being finished, an outcome marker
// <id>.finish.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace tandem::spool {

enum class JobState { queued, running, done, failed };
std::string_view to_string(JobState state);

inline constexpr std::string_view kJobExtension = ".json";
inline constexpr std::string_view kWorkSuffix = ".work";
inline constexpr std::string_view kReasonSuffix = ".reason.txt";
inline constexpr std::string_view kFinishSuffix = ".finish";

// inbox/, active/, done/ or failed/ of the spool at `root`.
std::filesystem::path state_folder(const std::filesystem::path& root, JobState state);

// `name` + `suffix` inside `folder`: the job file, work folder, reason or marker of job `name`.
std::filesystem::path job_path(const std::filesystem::path& folder, std::string_view name,
                               std::string_view suffix);

// Whether a file named `file_name` in a spool folder ends in `suffix` (given in lower case,
// matched in any: kJobExtension for a job, kFinishSuffix for a marker) and is not hidden. A
// submit writes its temporary under a hidden name, so the spool never takes it for a job.
bool is_spool_file(std::string_view file_name, std::string_view suffix);

}  // namespace tandem::spool
