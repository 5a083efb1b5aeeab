// The jobs in a spool, read from its folders: what `tandemctl jobs` shows and what the trainer
// claims and resumes. Reading only; nothing is moved or created.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/spool/layout.h"

namespace tandem::spool {

struct JobEntry {
  JobState state = JobState::queued;
  std::string id;    // the file's stem: "<stem>-<hash>" once claimed, the inbox name before
  std::string name;  // what `jobs --wait` matches: job_stem(id) once claimed
  std::filesystem::path file;
  std::filesystem::path work_dir;  // running/done/failed: <id>.work beside the file (may be gone)
  std::filesystem::path reason_file;  // failed: <id>.reason.txt beside the file
  std::string reason;                 // failed: the first line of reason_file
  std::filesystem::file_time_type modified{};
};

// Every job in the spool at `root`: inbox/ (queued), active/ (running), done/ and failed/, each
// folder in name order. A folder not made yet holds no jobs (the trainer makes them).
std::vector<JobEntry> list_jobs(const std::filesystem::path& root);

// The jobs in the folder of `state`, in name order. Error when it cannot be listed, also when
// it is missing: the spool that asks made it.
std::vector<JobEntry> list_jobs(const std::filesystem::path& root, JobState state);

// The outcome markers (<id>.finish) in active/ of finishes a stop interrupted, in name order.
std::vector<std::filesystem::path> finish_markers(const std::filesystem::path& root);

// The first line of `file` without its line end; empty when it is missing or empty.
std::string first_line(const std::filesystem::path& file);

}  // namespace tandem::spool
