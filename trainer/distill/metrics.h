// How well the student learned: teacher agreement on a held-out split, accuracy against gold
// labels where the dataset has them, and the training loss per epoch; saved as metrics.json.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainer/distill/student.h"

namespace tandem::distill {

// An item is held out when mix64(fnv1a64("holdout:" + id)) (rng.h, features.h), read as a
// fraction of 2^64 (its top 53 bits), is below `fraction` ([0, 1)). It depends on the id alone:
// the same on every machine and in any order, unchanged when other items come or go.
bool is_held_out(std::string_view id, double fraction);

struct Split {
  std::vector<std::size_t> train;    // indices into the ids given, ascending
  std::vector<std::size_t> holdout;  // likewise
};
Split split_by_id(const std::vector<std::string>& ids, double fraction);

struct EvaluationItem {
  std::string_view text;
  std::size_t teacher = 0;          // the teacher's label index
  std::optional<std::size_t> gold;  // the dataset's label index, if any
};

struct Metrics {
  std::vector<std::string> labels;
  double holdout_fraction = 0;
  std::size_t items = 0, train_items = 0, holdout_items = 0;
  std::vector<double> epoch_loss;
  // Held-out items whose student prediction equals the teacher label; none without a holdout.
  std::optional<double> teacher_agreement;
  // Held-out items with a gold label, and how many the student got right.
  std::size_t holdout_gold_items = 0;
  std::optional<double> student_gold_accuracy;
  // All items with a gold label, and how many the teacher got right.
  std::size_t gold_items = 0;
  std::optional<double> teacher_gold_accuracy;
  // Per teacher label, over the held-out items the teacher gave it: how many, and the share the
  // student agreed on.
  struct LabelAgreement {
    std::size_t holdout_items = 0;
    std::optional<double> agreement;
  };
  std::vector<LabelAgreement> per_label;
  // The confidence threshold (answer_threshold below) and what it gives on the held-out items.
  double min_agreement = 0;
  std::optional<double> answer_threshold;  // none without held-out items: always answers
  std::optional<double> answered_fraction;
  std::optional<double> answered_agreement;
};

// The least confidence at which answering keeps the agreement with the teacher, over the items
// answered, at least `min_agreement`, answering as many as possible: `held_out` pairs (student
// confidence, agrees with the teacher). Above 1 when no threshold reaches it (never answer);
// std::nullopt with no items.
std::optional<double> choose_answer_threshold(std::vector<std::pair<double, bool>> held_out,
                                              double min_agreement);

// Fills everything but epoch_loss (the caller has it from training).
Metrics evaluate(const Student& student, const std::vector<EvaluationItem>& items,
                 const Split& split, double holdout_fraction, double min_agreement = 0.95);

nlohmann::json metrics_to_json(const Metrics& metrics);
void write_metrics(const std::filesystem::path& file, const Metrics& metrics);  // atomically

}  // namespace tandem::distill
