// A `distill` job: label a JSONL dataset with the LLM, then train a student classifier on those
// labels (trainer/distill/ runs it).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/spool/job_fields.h"

namespace tandem::spool {

inline constexpr std::string_view kDefaultPromptTemplate = "Text: {text}\nLabel:";

struct DistillSpec {
  static constexpr std::string_view kKind = "distill";

  std::filesystem::path dataset;    // absolute once parsed
  std::vector<std::string> labels;  // 2..64 distinct, non-empty
  std::string prompt_template;      // contains "{text}"
  int epochs = 5;
  double learning_rate = 0.1;
  double holdout_fraction = 0.2;
  std::uint64_t seed = 42;
  std::optional<std::int64_t> max_items;  // absent: the whole dataset
  // The student answers only above a confidence chosen on the held-out items so that its
  // agreement with the teacher there is at least this; below it `predict` defers.
  double min_agreement = 0.95;
  // The server's model that labels (an id or alias of its models folder); empty: its default.
  std::string model;

  // Reads this kind's fields; a relative `dataset` resolves against `base_dir`.
  static DistillSpec parse(JobFields& fields, const std::filesystem::path& base_dir,
                           PathCheck check);
  // Writes the paths it resolved into `job` (the job file's JSON), absolute: `dataset`.
  void write_absolute_paths(nlohmann::ordered_json& job) const;
};

}  // namespace tandem::spool
