// Reads TandemTrainer's published status from HKLM\SOFTWARE\Tandem\Trainer.
#pragma once

#include <optional>

#include "common/trainer_status.h"

namespace tandem::win32 {

// std::nullopt when the trainer has never published (not installed or never started).
std::optional<TrainerStatus> read_trainer_registry();

}  // namespace tandem::win32
