#include "trainer/distill/metrics.h"

#include "common/files.h"
#include "trainer/distill/features.h"
#include "trainer/distill/rng.h"

namespace tandem::distill {
namespace {

std::optional<double> ratio(std::size_t good, std::size_t total) {
  if (total == 0) return std::nullopt;
  return static_cast<double>(good) / static_cast<double>(total);
}

nlohmann::json or_null(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

bool is_held_out(std::string_view id, double fraction) {
  // FNV-1a alone barely changes its high bits when only the last bytes differ ("id-1", "id-2").
  const std::uint64_t h = mix64(fnv1a64("holdout:" + std::string(id)));
  // The top 53 bits as a double in [0, 1), exactly.
  return static_cast<double>(h >> 11) * 0x1.0p-53 < fraction;
}

Split split_by_id(const std::vector<std::string>& ids, double fraction) {
  if (!(fraction >= 0 && fraction < 1)) {
    throw Error("holdout_fraction must be in [0, 1), got " + std::to_string(fraction));
  }
  Split split;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    (is_held_out(ids[i], fraction) ? split.holdout : split.train).push_back(i);
  }
  return split;
}

Metrics evaluate(const Student& student, const std::vector<EvaluationItem>& items,
                 const Split& split, double holdout_fraction) {
  Metrics m;
  m.labels = student.labels();
  m.holdout_fraction = holdout_fraction;
  m.items = items.size();
  m.train_items = split.train.size();
  m.holdout_items = split.holdout.size();

  std::size_t agree = 0, student_gold_right = 0, teacher_gold_right = 0;
  for (std::size_t i : split.holdout) {
    const EvaluationItem& item = items.at(i);
    const std::size_t predicted = student.predict(item.text).index;
    if (predicted == item.teacher) ++agree;
    if (item.gold) {
      ++m.holdout_gold_items;
      if (predicted == *item.gold) ++student_gold_right;
    }
  }
  for (const auto& item : items) {
    if (!item.gold) continue;
    ++m.gold_items;
    if (item.teacher == *item.gold) ++teacher_gold_right;
  }
  m.teacher_agreement = ratio(agree, m.holdout_items);
  m.student_gold_accuracy = ratio(student_gold_right, m.holdout_gold_items);
  m.teacher_gold_accuracy = ratio(teacher_gold_right, m.gold_items);
  return m;
}

nlohmann::json metrics_to_json(const Metrics& m) {
  nlohmann::json epochs = nlohmann::json::array();
  for (std::size_t e = 0; e < m.epoch_loss.size(); ++e) {
    epochs.push_back({{"epoch", e + 1}, {"loss", m.epoch_loss[e]}});
  }
  return {
      {"labels", m.labels},
      {"items", m.items},
      {"train_items", m.train_items},
      {"holdout_fraction", m.holdout_fraction},
      {"holdout_items", m.holdout_items},
      {"epochs", epochs},
      {"teacher_agreement", or_null(m.teacher_agreement)},
      {"gold",
       {{"holdout_items", m.holdout_gold_items},
        {"student_accuracy", or_null(m.student_gold_accuracy)},
        {"items", m.gold_items},
        {"teacher_accuracy", or_null(m.teacher_gold_accuracy)}}},
  };
}

void write_metrics(const std::filesystem::path& file, const Metrics& metrics) {
  write_file_atomically(file, metrics_to_json(metrics).dump(2) + "\n");
}

}  // namespace tandem::distill
