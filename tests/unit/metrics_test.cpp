#include "trainer/distill/metrics.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/files.h"
#include "tests/support/temp_dir.h"

namespace tandem::distill {
namespace {

std::vector<std::string> ids(std::size_t n) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back("id-" + std::to_string(i));
  return out;
}

TEST(Metrics, HoldoutDependsOnTheIdAloneAndMatchesTheFraction) {
  auto all = ids(4000);
  Split split = split_by_id(all, 0.2);
  EXPECT_EQ(split.train.size() + split.holdout.size(), all.size());
  EXPECT_NEAR(static_cast<double>(split.holdout.size()) / 4000.0, 0.2, 0.03);
  // Reversed order, or a subset: every id keeps its side.
  std::vector<std::string> reversed(all.rbegin(), all.rend());
  Split again = split_by_id(reversed, 0.2);
  ASSERT_EQ(again.holdout.size(), split.holdout.size());
  for (std::size_t i : split.holdout) EXPECT_TRUE(is_held_out(all[i], 0.2));
  for (std::size_t i : split.train) EXPECT_FALSE(is_held_out(all[i], 0.2));
  // A bigger fraction only adds items to the holdout.
  for (std::size_t i : split.holdout) EXPECT_TRUE(is_held_out(all[i], 0.5));
  EXPECT_TRUE(split_by_id(all, 0.0).holdout.empty());
}

TEST(Metrics, PinnedHoldoutMembership) {
  // The split is part of what a job reports; it must not change between platforms or builds.
  std::string held;
  for (const auto& id : ids(20)) held += is_held_out(id, 0.3) ? '1' : '0';
  EXPECT_EQ(held, "00110000000000000110");
}

TEST(Metrics, FractionOutOfRangeIsAnError) {
  EXPECT_THROW(split_by_id(ids(3), 1.0), Error);
  EXPECT_THROW(split_by_id(ids(3), -0.1), Error);
}

TEST(Metrics, AgreementAndGoldAccuracy) {
  // Bias only: the student always answers "b".
  Student student({"a", "b"}, 16, std::vector<float>(32, 0.0f), {0.0f, 1.0f});
  std::vector<EvaluationItem> items = {
      {"one", 1, 1},               // held out: agrees, gold right
      {"two", 0, 0},               // held out: disagrees, gold wrong
      {"three", 1, std::nullopt},  // held out: agrees, no gold
      {"four", 0, 1},              // train: teacher wrong against gold
  };
  Split split{{3}, {0, 1, 2}};
  Metrics m = evaluate(student, items, split, 0.5);
  m.epoch_loss = {0.6, 0.4};
  EXPECT_EQ(m.items, 4u);
  EXPECT_EQ(m.train_items, 1u);
  EXPECT_EQ(m.holdout_items, 3u);
  EXPECT_DOUBLE_EQ(*m.teacher_agreement, 2.0 / 3.0);
  EXPECT_EQ(m.holdout_gold_items, 2u);
  EXPECT_DOUBLE_EQ(*m.student_gold_accuracy, 0.5);
  EXPECT_EQ(m.gold_items, 3u);
  EXPECT_DOUBLE_EQ(*m.teacher_gold_accuracy, 2.0 / 3.0);

  tandem::testing::TempDir dir;
  write_metrics(dir / "metrics.json", m);
  auto doc = nlohmann::json::parse(read_file(dir / "metrics.json"));
  EXPECT_EQ(doc["labels"], nlohmann::json({"a", "b"}));
  EXPECT_EQ(doc["holdout_items"], 3);
  EXPECT_EQ(doc["epochs"][1]["epoch"], 2);
  EXPECT_EQ(doc["epochs"][1]["loss"], 0.4);
  EXPECT_DOUBLE_EQ(doc["teacher_agreement"].get<double>(), 2.0 / 3.0);
  EXPECT_EQ(doc["gold"]["student_accuracy"], 0.5);
  EXPECT_EQ(doc["gold"]["items"], 3);
}

TEST(Metrics, NoHoldoutAndNoGoldGiveNulls) {
  Student student({"a", "b"}, 16, std::vector<float>(32, 0.0f), {0.0f, 0.0f});
  std::vector<EvaluationItem> items = {{"one", 1, std::nullopt}};
  Metrics m = evaluate(student, items, Split{{0}, {}}, 0.0);
  EXPECT_FALSE(m.teacher_agreement.has_value());
  EXPECT_FALSE(m.student_gold_accuracy.has_value());
  EXPECT_FALSE(m.teacher_gold_accuracy.has_value());
  auto doc = metrics_to_json(m);
  EXPECT_TRUE(doc["teacher_agreement"].is_null());
  EXPECT_TRUE(doc["gold"]["teacher_accuracy"].is_null());
}

TEST(Metrics, TheAnswerThresholdKeepsAgreementAboveTheMinimumAndAnswersAllItCan) {
  // Confidence, agrees: the top three agree, then one disagreement, then a tie at 0.6.
  const std::vector<std::pair<double, bool>> held_out = {{0.99, true}, {0.95, true}, {0.9, true},
                                                         {0.8, false}, {0.6, true},  {0.6, false}};
  EXPECT_DOUBLE_EQ(*choose_answer_threshold(held_out, 1.0), 0.9);
  EXPECT_DOUBLE_EQ(*choose_answer_threshold(held_out, 0.75), 0.8);  // 3 of 4
  // 4 of 6 at 0.6: the tie is answered or deferred together, never split.
  EXPECT_DOUBLE_EQ(*choose_answer_threshold(held_out, 0.66), 0.6);
  EXPECT_DOUBLE_EQ(*choose_answer_threshold(held_out, 0.7), 0.8);
  // Nothing reaches it: above 1, so no confidence answers.
  EXPECT_GT(*choose_answer_threshold({{0.9, false}, {0.7, false}}, 0.95), 1.0);
  EXPECT_FALSE(choose_answer_threshold({}, 0.95).has_value());
}

TEST(Metrics, PerLabelAgreementAndTheAnsweringReport) {
  // Bias only: the student always answers "b", with the same confidence for every text.
  Student student({"a", "b"}, 16, std::vector<float>(32, 0.0f), {0.0f, 1.0f});
  std::vector<EvaluationItem> items = {{"one", 1, std::nullopt},
                                       {"two", 0, std::nullopt},
                                       {"three", 1, std::nullopt},
                                       {"four", 1, std::nullopt}};
  Metrics m = evaluate(student, items, Split{{}, {0, 1, 2, 3}}, 0.5, 0.95);
  ASSERT_EQ(m.per_label.size(), 2u);
  EXPECT_EQ(m.per_label[0].holdout_items, 1u);
  EXPECT_DOUBLE_EQ(*m.per_label[0].agreement, 0.0);
  EXPECT_EQ(m.per_label[1].holdout_items, 3u);
  EXPECT_DOUBLE_EQ(*m.per_label[1].agreement, 1.0);
  // One confidence for all, 3 of 4 agree: below 0.95, so it defers on everything.
  EXPECT_GT(*m.answer_threshold, 1.0);
  EXPECT_DOUBLE_EQ(*m.answered_fraction, 0.0);
  EXPECT_FALSE(m.answered_agreement.has_value());
  const auto doc = metrics_to_json(m);
  EXPECT_EQ(doc["per_label"][1]["label"], "b");
  EXPECT_EQ(doc["answering"]["min_agreement"], 0.95);

  Metrics lenient = evaluate(student, items, Split{{}, {0, 1, 2, 3}}, 0.5, 0.75);
  EXPECT_DOUBLE_EQ(*lenient.answered_fraction, 1.0);
  EXPECT_DOUBLE_EQ(*lenient.answered_agreement, 0.75);
  student.set_answer_threshold(lenient.answer_threshold);
  EXPECT_TRUE(student.answers(student.predict("anything")));
  student.set_answer_threshold(m.answer_threshold);
  EXPECT_FALSE(student.answers(student.predict("anything")));
  // The threshold travels in the model file.
  EXPECT_EQ(Student::from_json("s", student.to_json()).answer_threshold(), m.answer_threshold);
}

}  // namespace
}  // namespace tandem::distill
