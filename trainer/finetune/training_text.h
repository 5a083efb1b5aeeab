// A finetune dataset as the text the model trains on: a .txt file as it is, or a .jsonl file
// of records {"text": "..."}, each record a text of its own.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace tandem::finetune {

// The texts of `dataset`; InputError naming file:line and the field for a bad record, and for
// a dataset with no text at all.
std::vector<std::string> read_training_texts(const std::filesystem::path& dataset);

}  // namespace tandem::finetune
