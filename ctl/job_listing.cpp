#include "ctl/job_listing.h"

#include <algorithm>
#include <sstream>

#include "common/files.h"

namespace tandem::ctl {
namespace {

using spool::JobEntry;
using spool::JobState;

std::string progress_text(const JobEntry& job, const std::optional<TrainerProgress>& progress) {
  if (job.state != JobState::running || !progress || progress->job != job.id) return {};
  std::string text = std::to_string(progress->items_done) + "/" +
                     std::to_string(progress->items_total) +
                     (progress->training.epochs > 0 ? " steps" : " items");
  if (const std::string figures = describe_training(progress->training); !figures.empty()) {
    text += ", " + figures;
  }
  if (!progress->state.empty() && progress->state != "working")
    text += " (" + progress->state + ")";
  return text;
}

}  // namespace

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
      if (progress->training.epochs > 0) {
        const nlohmann::json all = trainer_status_json(*progress);
        for (const char* key :
             {"epoch", "epochs", "train_loss", "val_loss", "tokens_per_s", "eta_s"}) {
          j[key] = all[key];
        }
      }
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
