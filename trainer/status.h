// TandemTrainer's side of its status pipe (docs/architecture.md#trainer-status: the
// \\.\pipe\tandem-trainer `status` op); the status itself and its encodings are
// common/trainer_status.h.
#pragma once

#include <string>
#include <string_view>

#include "common/trainer_status.h"

namespace tandem::trainer {

// The trainer's side of the pipe protocol: `status` answers {"v":1,"ok":true,...} with
// trainer_status_json; `resolve` and `wait` belong to the LLM server's pipe and get a bad_request
// naming `op`, as does anything malformed. Never throws for what a client sends.
std::string answer_status_request(const TrainerStatus& status, std::string_view message);

}  // namespace tandem::trainer
