// TandemTrainer's status as it publishes it (HKLM\SOFTWARE\Tandem\Trainer, trainer/status.cpp
// writes it): one portable shape for every reader — tandemctl, the tray, the end-to-end tests.
#pragma once

#include <cstdint>
#include <string>

namespace tandem {

struct TrainerPublished {
  std::string state;  // idle, working, waiting, paused, stopped
  std::string job;    // the id of the job it works on
  std::uint32_t items_done = 0, items_total = 0, jobs_done = 0, jobs_failed = 0, pid = 0;
  std::string last_error, server_url;
};

}  // namespace tandem
