// The student: multinomial logistic regression over hashed n-grams (features.h), trained with
// SGD on the teacher's labels. Training is deterministic: the same examples, options and seed
// give bit-identical weights. Its file is JSON and portable (student_file.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "trainer/distill/features.h"

namespace tandem::distill {

struct TrainOptions {
  double learning_rate = 0.5;  // (0, 100]
  int epochs = 10;             // [1, 10000]
  double l2 = 1e-6;            // [0, 1), with learning_rate * l2 < 1
  std::uint64_t seed = 1;
  std::uint32_t buckets = kDefaultBuckets;
};

struct LabelledText {
  std::string_view text;  // viewed, not copied: must outlive the train_student call
  std::size_t label = 0;  // index into the label list
};

struct Prediction {
  std::size_t index = 0;  // the most probable label; the first one on a tie
  std::string label;
  std::vector<double> probabilities;  // one per label, in label order
};

// Called after each epoch (1-based) with the average cross-entropy of that epoch's examples,
// each measured just before its own update.
using EpochCallback = std::function<void(int epoch, double average_loss)>;

class TrainingStopped : public Error {
 public:
  TrainingStopped() : Error("training stopped on request") {}
};

class Student {
 public:
  // `labels`: at least two, distinct, non-empty. `weights`: bucket-major, weights[b * labels + k].
  Student(std::vector<std::string> labels, std::uint32_t buckets, std::vector<float> weights,
          std::vector<float> bias);

  const std::vector<std::string>& labels() const { return labels_; }
  std::uint32_t buckets() const { return buckets_; }
  const std::vector<float>& weights() const { return weights_; }
  const std::vector<float>& bias() const { return bias_; }

  // The least confidence (the top label's probability) at which the student answers; below it
  // the caller should ask the LLM. Absent: it always answers. Above 1: it never does.
  const std::optional<double>& answer_threshold() const { return answer_threshold_; }
  void set_answer_threshold(std::optional<double> threshold) { answer_threshold_ = threshold; }
  bool answers(const Prediction& p) const {
    return !answer_threshold_ || p.probabilities[p.index] >= *answer_threshold_;
  }

  Prediction predict(std::string_view text) const;
  Prediction predict(const SparseVector& features) const;

  // The model file (student_file.cpp). Equal models give equal bytes.
  std::string to_json() const;
  // Errors are InputError naming `origin`, the line and the field.
  static Student from_json(const std::string& origin, std::string_view text);
  void save(const std::filesystem::path& file) const;  // atomically
  static Student load(const std::filesystem::path& file);

 private:
  std::vector<std::string> labels_;
  std::uint32_t buckets_;
  std::vector<float> weights_;
  std::vector<float> bias_;
  std::optional<double> answer_threshold_;
};

// Throws Error unless `labels` are at least two, distinct and non-empty.
void check_student_labels(const std::vector<std::string>& labels);

// Throws Error for invalid options, labels or examples, TrainingStopped when `stop` is requested
// (checked before every example).
Student train_student(std::vector<std::string> labels, const std::vector<LabelledText>& examples,
                      const TrainOptions& options, const EpochCallback& on_epoch = {},
                      std::stop_token stop = {});

}  // namespace tandem::distill
