#include "trainer/distill/metrics.h"

#include <algorithm>
#include <cmath>

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

std::optional<double> choose_answer_threshold(std::vector<std::pair<double, bool>> held_out,
                                              double min_agreement) {
  if (held_out.empty()) return std::nullopt;
  std::sort(held_out.begin(), held_out.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  std::optional<double> best;
  std::size_t agree = 0;
  for (std::size_t n = 1; n <= held_out.size(); ++n) {
    agree += held_out[n - 1].second ? 1 : 0;
    // A threshold answers every item at or above it: cut only between different confidences.
    if (n < held_out.size() && held_out[n].first == held_out[n - 1].first) continue;
    if (static_cast<double>(agree) >= min_agreement * static_cast<double>(n)) {
      best = held_out[n - 1].first;
    }
  }
  return best ? best : std::optional<double>(std::nextafter(1.0, 2.0));
}

Metrics evaluate(const Student& student, const std::vector<EvaluationItem>& items,
                 const Split& split, double holdout_fraction, double min_agreement) {
  Metrics m;
  m.labels = student.labels();
  m.holdout_fraction = holdout_fraction;
  m.items = items.size();
  m.train_items = split.train.size();
  m.holdout_items = split.holdout.size();

  std::size_t agree = 0, student_gold_right = 0, teacher_gold_right = 0;
  std::vector<std::size_t> label_items(m.labels.size()), label_agree(m.labels.size());
  std::vector<std::pair<double, bool>> confidence;
  for (std::size_t i : split.holdout) {
    const EvaluationItem& item = items.at(i);
    const Prediction p = student.predict(item.text);
    const std::size_t predicted = p.index;
    confidence.emplace_back(p.probabilities[predicted], predicted == item.teacher);
    ++label_items.at(item.teacher);
    if (predicted == item.teacher) ++label_agree[item.teacher];
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
  for (std::size_t k = 0; k < m.labels.size(); ++k) {
    m.per_label.push_back({label_items[k], ratio(label_agree[k], label_items[k])});
  }
  m.min_agreement = min_agreement;
  m.answer_threshold = choose_answer_threshold(confidence, min_agreement);
  if (m.answer_threshold) {
    std::size_t answered = 0, answered_agree = 0;
    for (const auto& [c, agrees] : confidence) {
      if (c < *m.answer_threshold) continue;
      ++answered;
      if (agrees) ++answered_agree;
    }
    m.answered_fraction = ratio(answered, confidence.size());
    m.answered_agreement = ratio(answered_agree, answered);
  }
  return m;
}

nlohmann::json metrics_to_json(const Metrics& m) {
  nlohmann::json epochs = nlohmann::json::array();
  for (std::size_t e = 0; e < m.epoch_loss.size(); ++e) {
    epochs.push_back({{"epoch", e + 1}, {"loss", m.epoch_loss[e]}});
  }
  nlohmann::json per_label = nlohmann::json::array();
  for (std::size_t k = 0; k < m.per_label.size(); ++k) {
    per_label.push_back({{"label", m.labels[k]},
                         {"holdout_items", m.per_label[k].holdout_items},
                         {"teacher_agreement", or_null(m.per_label[k].agreement)}});
  }
  return {
      {"labels", m.labels},
      {"items", m.items},
      {"train_items", m.train_items},
      {"holdout_fraction", m.holdout_fraction},
      {"holdout_items", m.holdout_items},
      {"epochs", epochs},
      {"teacher_agreement", or_null(m.teacher_agreement)},
      {"per_label", per_label},
      {"answering",
       {{"min_agreement", m.min_agreement},
        {"answer_threshold", or_null(m.answer_threshold)},
        {"answered_fraction", or_null(m.answered_fraction)},
        {"answered_agreement", or_null(m.answered_agreement)}}},
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
