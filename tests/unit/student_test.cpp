#include "trainer/distill/student.h"

#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <stop_token>

#include "tests/unit/distill_synthetic.h"
#include "trainer/distill/metrics.h"

namespace tandem::distill {
namespace {

using testing::as_examples;
using testing::synthetic_items;

const std::vector<std::string> kTwo = {"fair", "wet"};
const std::vector<std::string> kThree = {"fair", "wet", "frozen"};

struct Learned {
  std::vector<double> losses;
  Metrics metrics;
  std::string model;
};

// Trains on the train split of `count` synthetic items and measures on the held-out split.
// With `random_labels`, the labels are drawn independently of the texts.
Learned learn(const std::vector<std::string>& labels, std::size_t count,
              const TrainOptions& options, bool random_labels = false) {
  auto items = synthetic_items(count, labels.size());
  SplitMix64 rng(5);
  if (random_labels) {
    for (auto& item : items) item.label = static_cast<std::size_t>(rng.below(labels.size()));
  }
  std::vector<std::string> ids;
  for (const auto& item : items) ids.push_back(item.id);
  Split split = split_by_id(ids, 0.25);
  std::vector<LabelledText> train;
  for (std::size_t i : split.train) train.push_back({items[i].text, items[i].label});
  Learned out;
  Student student =
      train_student(labels, train, options, [&](int, double loss) { out.losses.push_back(loss); });
  std::vector<EvaluationItem> eval;
  for (const auto& item : items) eval.push_back({item.text, item.label, item.label});
  out.metrics = evaluate(student, eval, split, 0.25);
  out.model = student.to_json();
  return out;
}

TEST(Student, LearnsTwoLabels) {
  Learned l = learn(kTwo, 400, TrainOptions{});
  ASSERT_GE(l.metrics.holdout_items, 60u);
  ASSERT_TRUE(l.metrics.teacher_agreement.has_value());
  std::cout << "2 labels: held-out teacher agreement " << *l.metrics.teacher_agreement << " on "
            << l.metrics.holdout_items << " items\n";
  EXPECT_GE(*l.metrics.teacher_agreement, 0.9);
}

TEST(Student, LearnsThreeLabels) {
  Learned l = learn(kThree, 600, TrainOptions{});
  ASSERT_TRUE(l.metrics.teacher_agreement.has_value());
  std::cout << "3 labels: held-out teacher agreement " << *l.metrics.teacher_agreement << " on "
            << l.metrics.holdout_items << " items\n";
  EXPECT_GE(*l.metrics.teacher_agreement, 0.9);
  EXPECT_EQ(l.metrics.student_gold_accuracy, l.metrics.teacher_agreement);  // gold == teacher here
}

TEST(Student, LearnsWithTheJobDefaults) {
  // common/spool/distill_spec.h: epochs 5, learning_rate 0.1.
  TrainOptions options;
  options.epochs = 5;
  options.learning_rate = 0.1;
  Learned l = learn(kTwo, 400, options);
  std::cout << "2 labels, job defaults: held-out teacher agreement " << *l.metrics.teacher_agreement
            << "\n";
  EXPECT_GE(*l.metrics.teacher_agreement, 0.9);
}

TEST(Student, LabelsUnrelatedToTheTextsStayNearChance) {
  // The measurement itself can fail: nothing to learn gives about 1/2 on held-out items.
  Learned l = learn(kTwo, 400, TrainOptions{}, true);
  std::cout << "2 random labels: held-out teacher agreement " << *l.metrics.teacher_agreement
            << "\n";
  EXPECT_LT(*l.metrics.teacher_agreement, 0.7);
}

TEST(Student, LossDecreasesEveryEpoch) {
  TrainOptions options;
  options.epochs = 8;
  Learned l = learn(kThree, 300, options);
  ASSERT_EQ(l.losses.size(), 8u);
  EXPECT_LT(l.losses.front(), std::log(3.0) + 1e-9);  // no worse than uniform guessing
  for (std::size_t e = 1; e < l.losses.size(); ++e) EXPECT_LT(l.losses[e], l.losses[e - 1]) << e;
  EXPECT_LT(l.losses.back(), 0.5 * l.losses.front());
}

TEST(Student, SameSeedGivesIdenticalModelBytesAndAnotherSeedDoesNot) {
  TrainOptions options;
  options.epochs = 3;
  options.buckets = 1u << 12;
  auto items = synthetic_items(200, 3);
  auto examples = as_examples(items);
  std::string a = train_student(kThree, examples, options).to_json();
  std::string b = train_student(kThree, examples, options).to_json();
  EXPECT_EQ(a, b);
  options.seed = 2;
  EXPECT_NE(train_student(kThree, examples, options).to_json(), a);
}

TEST(Student, PredictReturnsNormalisedProbabilitiesAndFirstLabelOnTies) {
  Student blank(kThree, 64, std::vector<float>(64 * 3, 0.0f), {0.0f, 0.0f, 0.0f});
  Prediction p = blank.predict("anything at all");
  EXPECT_EQ(p.index, 0u);
  EXPECT_EQ(p.label, "fair");
  ASSERT_EQ(p.probabilities.size(), 3u);
  for (double v : p.probabilities) EXPECT_DOUBLE_EQ(v, 1.0 / 3.0);
  Student biased(kThree, 64, std::vector<float>(64 * 3, 0.0f), {0.0f, 2.0f, 2.0f});
  EXPECT_EQ(biased.predict("x").label, "wet");
  EXPECT_THROW(biased.predict(SparseVector{{100}, {1.0f}}), Error);  // made for another size
  EXPECT_NEAR(biased.predict("x").probabilities[0], 1.0 / (1.0 + 2.0 * std::exp(2.0)), 1e-12);
}

TEST(Student, RejectsBadLabelsOptionsAndExamples) {
  auto items = synthetic_items(10, 2);
  auto examples = as_examples(items);
  EXPECT_THROW(train_student({"only"}, examples, {}), Error);
  EXPECT_THROW(train_student({"a", "a"}, examples, {}), Error);
  EXPECT_THROW(train_student({"a", ""}, examples, {}), Error);
  EXPECT_THROW(train_student(kTwo, {}, {}), Error);
  EXPECT_THROW(train_student(kTwo, {{"text", 2}}, {}), Error);
  TrainOptions bad;
  bad.learning_rate = 0;
  EXPECT_THROW(train_student(kTwo, examples, bad), Error);
  bad = {};
  bad.epochs = 0;
  EXPECT_THROW(train_student(kTwo, examples, bad), Error);
  bad = {};
  bad.l2 = 1.0;
  EXPECT_THROW(train_student(kTwo, examples, bad), Error);
  bad = {};
  bad.buckets = 8;
  try {
    train_student(kTwo, examples, bad);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("buckets"), std::string::npos) << e.what();
  }
}

TEST(Student, StopsWhenAsked) {
  std::stop_source stop;
  int epochs_seen = 0;
  auto items = synthetic_items(50, 2);
  auto examples = as_examples(items);
  TrainOptions options;
  options.buckets = 1024;
  auto on_epoch = [&](int, double) {
    if (++epochs_seen == 2) stop.request_stop();
  };
  EXPECT_THROW(train_student(kTwo, examples, options, on_epoch, stop.get_token()), TrainingStopped);
  EXPECT_EQ(epochs_seen, 2);
}

TEST(Student, L2ShrinksTheWeights) {
  auto items = synthetic_items(200, 2);
  auto examples = as_examples(items);
  TrainOptions options;
  options.buckets = 1u << 12;
  options.l2 = 0;
  Student plain = train_student(kTwo, examples, options);
  options.l2 = 0.05;
  Student decayed = train_student(kTwo, examples, options);
  auto norm = [](const Student& s) {
    double n = 0;
    for (float v : s.weights()) n += double{v} * double{v};
    return n;
  };
  EXPECT_LT(norm(decayed), 0.5 * norm(plain));
}

}  // namespace
}  // namespace tandem::distill
