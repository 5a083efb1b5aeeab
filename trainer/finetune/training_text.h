// A finetune dataset as the records the model trains on: a .txt file is one text as it is; a
// .jsonl file holds one record per line, {"text": "..."} or a chat {"messages": [{"role": ...,
// "content": ...}, ...]} that the trainer renders with the model's chat template.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/llama/chat_template.h"

namespace tandem::finetune {

struct TrainingRecord {
  std::string text;                          // when `messages` is empty
  std::vector<llama::ChatMessage> messages;  // a chat record
};

// The records of `dataset`; InputError naming file:line and the field for a bad record, and for
// a dataset with none.
std::vector<TrainingRecord> read_training_records(const std::filesystem::path& dataset);

}  // namespace tandem::finetune
