// TandemTrainer's published status (docs/architecture.md#trainer-status; HKLM\...\Trainer, the
// \\.\pipe\tandem-trainer `status` op): what it is doing, the job and its progress, counters,
// the last error and the server endpoint in use.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/status_values.h"

namespace tandem::trainer {

struct TrainerStatus {
  // starting, idle (no job), working, paused, waiting (for the server), stopping, stopped
  std::string state = "starting";
  std::uint32_t pid = 0;
  std::string instance_id;
  std::string started_at;
  std::string pipe_name;
  std::string job;       // the active job's id; empty when none
  std::string job_kind;  // distill, command
  std::string phase;     // label, train, run
  std::int64_t items_done = 0;
  std::int64_t items_total = 0;
  std::int64_t jobs_done = 0;
  std::int64_t jobs_failed = 0;
  std::string last_error;
  std::string server_url;  // the verified endpoint in use; empty before the first resolve
};

// snake_case keys, as the pipe answers them.
nlohmann::json status_json(const TrainerStatus& status);
// Registry values, PascalCase like LlmServer's (docs/architecture.md#trainer-status); State last.
StatusValues status_registry_values(const TrainerStatus& status);
// The trainer's side of the pipe protocol: `status` answers {"v":1,"ok":true,...status_json};
// `resolve` and `wait` belong to the LLM server's pipe and get a bad_request naming `op`, as does
// anything malformed. Never throws for what a client sends.
std::string answer_status_request(const TrainerStatus& status, std::string_view message);

}  // namespace tandem::trainer
