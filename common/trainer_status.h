// TandemTrainer's published status: the one shape the trainer writes and every reader (tandemctl,
// the tray, the end-to-end tests) reads, and its one codec, as discovery/publication_values.h is
// for the server's endpoint. On Windows it is the values of HKLM\SOFTWARE\Tandem\Trainer, on Linux
// <runtime>/trainer-status.json; the status pipe or socket answers the same JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/discovery/publication_values.h"
#include "common/status_values.h"

namespace tandem {

// A finetune job's figures while it trains; zero and absent for other kinds.
struct TrainingFigures {
  std::int64_t epoch = 0;  // 1-based, the epoch the last step belonged to
  std::int64_t epochs = 0;
  std::optional<double> train_loss;  // mean of the last steps, nats per token
  std::optional<double> val_loss;    // the last validation (before training, then per epoch)
  std::optional<double> tokens_per_s;
  std::optional<double> eta_s;  // seconds left at the rate of this run

  bool operator==(const TrainingFigures&) const = default;
};

struct TrainerStatus {
  // starting, idle (no job), working, paused, waiting (for the server), blocked (its jobs
  // folders may not be trusted; last_error says which and why), stopping, stopped
  std::string state = "starting";
  std::uint32_t pid = 0;
  std::string instance_id;
  std::string started_at;
  std::string pipe_name;
  std::string job;       // the active job's id; empty when none
  std::string job_kind;  // distill, command, finetune
  std::string phase;     // label, train, run, evaluate
  // As wide as the trainer counts; a registry DWORD holds them clamped to 0..4294967295.
  std::int64_t items_done = 0;
  std::int64_t items_total = 0;
  std::int64_t jobs_done = 0;
  std::int64_t jobs_failed = 0;
  std::string last_error;
  std::string server_url;  // the verified endpoint in use; empty before the first resolve
  TrainingFigures training;
};

// "epoch 2/3, loss 3.21, validation 3.40, 1234 tokens/s, 1m20s left": what a person reads;
// empty when there are no figures (a job of another kind).
std::string describe_training(const TrainingFigures& figures);

// The registry values, PascalCase as in the LlmServer key; State last, as readers trust it.
StatusValues trainer_status_values(const TrainerStatus& status);
// Back from those values. A missing value keeps its default, but `state` is then empty: nothing
// was published.
TrainerStatus read_trainer_status_values(const discovery::ValueStore& values);

// snake_case keys, `job` null when there is none: the pipe's `status` answer and the Linux file.
nlohmann::json trainer_status_json(const TrainerStatus& status);
// Back from that JSON (other keys, such as the pipe's "v" and "ok", are ignored; a missing key
// keeps its default). InputError naming `origin`, the line and the field for a value of the
// wrong type or range.
TrainerStatus parse_trainer_status_json(const std::string& origin, std::string_view text);

}  // namespace tandem
