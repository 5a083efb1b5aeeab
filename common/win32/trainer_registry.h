// TandemTrainer's published status (HKLM\SOFTWARE\Tandem\Trainer), as its readers see it:
// tandemctl, the tray and the end-to-end tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace tandem::win32 {

struct TrainerRegistry {
  std::string state, job, last_error, server_url;
  std::uint32_t items_done = 0, items_total = 0, jobs_done = 0, jobs_failed = 0, pid = 0;
};

// std::nullopt when the trainer has never published (not installed or never started).
std::optional<TrainerRegistry> read_trainer_registry();

}  // namespace tandem::win32
