#include "trainer/distill/teacher_label.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "common/error.h"

namespace tandem::distill {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(TeacherLabel, PicksTheMostLikelyLabelWithNormalisedConfidence) {
  TeacherChoice c = choose_teacher_label({std::log(0.1), std::log(0.3), std::log(0.05)});
  EXPECT_EQ(c.index, 1u);
  EXPECT_NEAR(c.confidence, 0.3 / 0.45, 1e-12);
  ASSERT_EQ(c.probabilities.size(), 3u);
  EXPECT_NEAR(c.probabilities[0], 0.1 / 0.45, 1e-12);
  EXPECT_NEAR(c.probabilities[0] + c.probabilities[1] + c.probabilities[2], 1.0, 1e-12);
}

TEST(TeacherLabel, TiesGoToTheEarlierLabel) {
  TeacherChoice c = choose_teacher_label({-2.0, -1.0, -1.0});
  EXPECT_EQ(c.index, 1u);
  EXPECT_EQ(choose_teacher_label({-3.0, -3.0}).index, 0u);
  EXPECT_DOUBLE_EQ(choose_teacher_label({-3.0, -3.0}).confidence, 0.5);
}

TEST(TeacherLabel, VeryNegativeSumsStayFinite) {
  // Long multi-token labels: exp() of these would underflow without the max shift.
  TeacherChoice c = choose_teacher_label({-1000.0, -1001.0});
  EXPECT_EQ(c.index, 0u);
  EXPECT_NEAR(c.confidence, 1.0 / (1.0 + std::exp(-1.0)), 1e-12);
}

TEST(TeacherLabel, RuledOutLabelsAndInvalidInput) {
  TeacherChoice c = choose_teacher_label({-kInf, -0.5});
  EXPECT_EQ(c.index, 1u);
  EXPECT_DOUBLE_EQ(c.confidence, 1.0);
  EXPECT_DOUBLE_EQ(c.probabilities[0], 0.0);
  EXPECT_THROW(choose_teacher_label({}), Error);
  EXPECT_THROW(choose_teacher_label({-kInf, -kInf}), Error);
  EXPECT_THROW(choose_teacher_label({-1.0, std::nan("")}), Error);
  EXPECT_THROW(choose_teacher_label({kInf, -1.0}), Error);
}

TEST(TeacherLabel, PromptSubstitutesTextAndLabelsOnly) {
  EXPECT_EQ(build_prompt("Classify as {labels}.\nText: {text}\nLabel:", "I loved it",
                         {"positive", "negative", "neutral"}),
            "Classify as positive, negative, neutral.\nText: I loved it\nLabel:");
  EXPECT_EQ(build_prompt("{text} / {text}", "x", {"a", "b"}), "x / x");
  // Braces, quotes and placeholders inside the text itself are left as they are.
  EXPECT_EQ(build_prompt("{\"q\": \"{text}\"} {other}", "say {labels} \"hi\"", {"a", "b"}),
            "{\"q\": \"say {labels} \"hi\"\"} {other}");
  EXPECT_EQ(build_prompt("{tex}{text", "x", {"a"}), "{tex}{text");
}

TEST(TeacherLabel, TemplateWithoutTextIsReported) {
  EXPECT_FALSE(prompt_template_problem("Text: {text}\nLabel:").has_value());
  ASSERT_TRUE(prompt_template_problem("Label: {labels}").has_value());
  EXPECT_NE(prompt_template_problem("")->find("{text}"), std::string::npos);
}

}  // namespace
}  // namespace tandem::distill
