// What `tandemctl jobs` shows of the spool's jobs (spool::list_jobs), and whether a job a person
// waits for has ended. Portable (docs/architecture.md#jobs-spool).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/spool/listing.h"
#include "common/trainer_status.h"

namespace tandem::ctl {

// Progress of the running job as the trainer publishes it, when it does.
using TrainerProgress = TrainerStatus;

nlohmann::json jobs_json(const std::vector<spool::JobEntry>& jobs,
                         const std::optional<TrainerProgress>& progress);
// One line per job: state, id, progress or reason.
std::string jobs_text(const std::vector<spool::JobEntry>& jobs,
                      const std::optional<TrainerProgress>& progress);

// Where a job `name` (a job stem, or a whole id) stands for `jobs --wait`: it has ended once no
// job of that name is queued or running and one is in done/ or failed/ (the newest counts).
struct WaitVerdict {
  bool ended = false;
  std::optional<spool::JobEntry> job;  // ended: the finished one; else the queued/running one
};
WaitVerdict wait_verdict(const std::vector<spool::JobEntry>& jobs, std::string_view name);

}  // namespace tandem::ctl
