// Reads TandemTrainer's published status from HKLM\SOFTWARE\Tandem\Trainer.
#pragma once

#include <optional>

#include "common/trainer_published.h"

namespace tandem::win32 {

// std::nullopt when the trainer has never published (not installed or never started).
std::optional<TrainerPublished> read_trainer_registry();

}  // namespace tandem::win32
