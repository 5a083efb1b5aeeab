#include "trainer/distill/student.h"

#include <cmath>
#include <numeric>
#include <set>

#include "trainer/distill/rng.h"

namespace tandem::distill {
namespace {

void check_options(const TrainOptions& o) {
  if (!(o.learning_rate > 0 && o.learning_rate <= 100)) {
    throw Error("learning_rate must be in (0, 100], got " + std::to_string(o.learning_rate));
  }
  if (o.epochs < 1 || o.epochs > 10000) {
    throw Error("epochs must be from 1 to 10000, got " + std::to_string(o.epochs));
  }
  // Weight decay multiplies every weight by (1 - learning_rate * l2) per step.
  if (!(o.l2 >= 0 && o.l2 < 1 && o.learning_rate * o.l2 < 1)) {
    throw Error("l2 must be in [0, 1) with learning_rate * l2 < 1, got " + std::to_string(o.l2));
  }
  if (o.buckets < kMinBuckets || o.buckets > kMaxBuckets) {
    throw Error("buckets must be from " + std::to_string(kMinBuckets) + " to " +
                std::to_string(kMaxBuckets) + ", got " + std::to_string(o.buckets));
  }
}

// Softmax of `z` into `p`; returns log(sum(exp(z))).
double softmax(const std::vector<double>& z, std::vector<double>& p) {
  double max = z[0];
  for (double v : z) max = std::max(max, v);
  double sum = 0;
  for (std::size_t k = 0; k < z.size(); ++k) sum += p[k] = std::exp(z[k] - max);
  for (double& v : p) v /= sum;
  return max + std::log(sum);
}

}  // namespace

void check_student_labels(const std::vector<std::string>& labels) {
  if (labels.size() < 2) throw Error("a student needs at least two labels");
  std::set<std::string> seen;
  for (const auto& l : labels) {
    if (l.empty()) throw Error("labels must not be empty");
    if (!seen.insert(l).second) throw Error("label '" + l + "' is listed twice");
  }
}

Student::Student(std::vector<std::string> labels, std::uint32_t buckets, std::vector<float> weights,
                 std::vector<float> bias)
    : labels_(std::move(labels)),
      buckets_(buckets),
      weights_(std::move(weights)),
      bias_(std::move(bias)) {
  check_student_labels(labels_);
  if (buckets_ < kMinBuckets || buckets_ > kMaxBuckets) {
    throw Error("bucket count " + std::to_string(buckets_) + " is out of range");
  }
  if (weights_.size() != std::size_t{buckets_} * labels_.size() || bias_.size() != labels_.size()) {
    throw Error("student weights do not match its labels and bucket count");
  }
}

Prediction Student::predict(std::string_view text) const {
  return predict(extract_features(text, buckets_));
}

Prediction Student::predict(const SparseVector& x) const {
  const std::size_t k_count = labels_.size();
  std::vector<double> z(bias_.begin(), bias_.end());
  for (std::size_t i = 0; i < x.index.size(); ++i) {
    if (x.index[i] >= buckets_) throw Error("feature bucket outside this student's buckets");
    const float* row = &weights_[std::size_t{x.index[i]} * k_count];
    for (std::size_t k = 0; k < k_count; ++k) z[k] += double{row[k]} * double{x.value[i]};
  }
  Prediction p;
  p.probabilities.resize(k_count);
  softmax(z, p.probabilities);
  for (std::size_t k = 1; k < k_count; ++k) {
    if (p.probabilities[k] > p.probabilities[p.index]) p.index = k;
  }
  p.label = labels_[p.index];
  return p;
}

Student train_student(std::vector<std::string> labels, const std::vector<LabelledText>& examples,
                      const TrainOptions& options, const EpochCallback& on_epoch,
                      std::stop_token stop) {
  check_student_labels(labels);
  check_options(options);
  if (examples.empty()) throw Error("no training examples");
  const std::size_t k_count = labels.size();
  std::vector<SparseVector> features;
  features.reserve(examples.size());
  for (const auto& e : examples) {
    if (e.label >= k_count) throw Error("training example with label index out of range");
    features.push_back(extract_features(e.text, options.buckets));
  }

  // The weights are scale * w, so L2 decay is one multiplication per step, not a pass over all.
  std::vector<double> w(std::size_t{options.buckets} * k_count, 0.0);
  std::vector<double> b(k_count, 0.0);
  double scale = 1.0;
  const double lr = options.learning_rate;
  const double decay = 1.0 - lr * options.l2;
  std::vector<double> z(k_count), p(k_count);
  std::vector<std::size_t> order(examples.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  SplitMix64 rng(options.seed);

  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    portable_shuffle(order, rng);
    double total_loss = 0;
    for (std::size_t n : order) {
      if (stop.stop_requested()) throw TrainingStopped();
      const SparseVector& x = features[n];
      const std::size_t y = examples[n].label;
      std::fill(z.begin(), z.end(), 0.0);
      for (std::size_t i = 0; i < x.index.size(); ++i) {
        const double* row = &w[std::size_t{x.index[i]} * k_count];
        for (std::size_t k = 0; k < k_count; ++k) z[k] += row[k] * double{x.value[i]};
      }
      for (std::size_t k = 0; k < k_count; ++k) z[k] = b[k] + scale * z[k];
      total_loss += softmax(z, p) - z[y];

      scale *= decay;
      for (std::size_t k = 0; k < k_count; ++k) {
        p[k] -= k == y ? 1.0 : 0.0;  // now the gradient of the loss w.r.t. z[k]
        b[k] -= lr * p[k];
      }
      for (std::size_t i = 0; i < x.index.size(); ++i) {
        double* row = &w[std::size_t{x.index[i]} * k_count];
        const double step = lr * double{x.value[i]} / scale;
        for (std::size_t k = 0; k < k_count; ++k) row[k] -= step * p[k];
      }
      if (scale < 1e-6) {  // fold the scale in before the steps above lose precision
        for (double& v : w) v *= scale;
        scale = 1.0;
      }
    }
    if (on_epoch) on_epoch(epoch, total_loss / static_cast<double>(examples.size()));
  }

  std::vector<float> weights(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) weights[i] = static_cast<float>(w[i] * scale);
  std::vector<float> bias(b.begin(), b.end());
  return Student(std::move(labels), options.buckets, std::move(weights), std::move(bias));
}

}  // namespace tandem::distill
