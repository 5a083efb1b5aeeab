#include "trainer/distill/dataset.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/files.h"
#include "tests/support/temp_dir.h"

namespace tandem::distill {
namespace {

const std::vector<std::string> kLabels = {"positive", "negative"};

Dataset collect(std::string_view content) {
  return parse_dataset("data.jsonl", content, kLabels, BadLinePolicy::collect);
}

// The one error a single bad line (after a good first line) produces, in collect mode.
std::string error_of(const std::string& bad_line) {
  Dataset d = collect("{\"text\": \"fine\"}\n" + bad_line + "\n");
  EXPECT_EQ(d.items.size(), 1u);
  EXPECT_EQ(d.error_count, 1u);
  if (d.errors.size() != 1) return "";
  EXPECT_EQ(d.errors[0].line, 2);
  return d.errors[0].message;
}

void expect_has(const std::string& message, const std::string& part) {
  EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
}

TEST(Dataset, ReadsItemsSkipsBlankLinesAndGivesStableIds) {
  Dataset d = collect(
      "\xEF\xBB\xBF{\"id\": \"a1\", \"text\": \"good film\", \"label\": \"positive\"}\r\n"
      "\n"
      "   \n"
      "{\"text\": \"awful\", \"extra\": 3}\n"
      "{\"id\": 17, \"text\": \"so-so\", \"label\": null}");
  ASSERT_TRUE(d.errors.empty()) << d.errors[0].message;
  ASSERT_EQ(d.items.size(), 3u);
  EXPECT_EQ(d.items[0].id, "a1");
  EXPECT_EQ(d.items[0].text, "good film");
  EXPECT_EQ(d.items[0].gold_label, "positive");
  EXPECT_EQ(d.items[0].line, 1);
  EXPECT_EQ(d.items[1].id, "line-4");
  EXPECT_FALSE(d.items[1].gold_label.has_value());
  EXPECT_EQ(d.items[2].id, "17");
  EXPECT_EQ(d.items[2].line, 5);
  EXPECT_FALSE(d.items[2].gold_label.has_value());
}

TEST(Dataset, BadJsonNamesLineAndColumn) {
  auto m = error_of("{\"text\": \"unterminated}");
  expect_has(m, "data.jsonl:2:");
  expect_has(m, "invalid JSON");
}

TEST(Dataset, LineThatIsNotAnObject) {
  expect_has(error_of("[\"text\"]"), "data.jsonl:2: expected a JSON object, got an array");
}

TEST(Dataset, MissingEmptyOrNonStringText) {
  expect_has(error_of("{\"label\": \"positive\"}"), "data.jsonl:2: field 'text': missing");
  expect_has(error_of("{\"text\": \"  \"}"), "data.jsonl:2: field 'text': must not be empty");
  expect_has(error_of("{\"text\": 5}"), "data.jsonl:2: field 'text': expected a string");
}

TEST(Dataset, NonStringOrUnknownLabel) {
  expect_has(error_of("{\"text\": \"x\", \"label\": 1}"),
             "data.jsonl:2: field 'label': expected a string, got a number");
  auto m = error_of("{\"text\": \"x\", \"label\": \"Positive\"}");
  expect_has(m, "data.jsonl:2: field 'label': 'Positive' is not one of the job's labels");
  expect_has(m, "'positive', 'negative'");
}

TEST(Dataset, BadIds) {
  expect_has(error_of("{\"id\": \"\", \"text\": \"x\"}"),
             "data.jsonl:2: field 'id': must not be empty");
  expect_has(error_of("{\"id\": [1], \"text\": \"x\"}"),
             "data.jsonl:2: field 'id': expected a string or an integer");
}

TEST(Dataset, DuplicateIdsNameBothLines) {
  Dataset d = collect(
      "{\"id\": \"a\", \"text\": \"x\"}\n"
      "{\"id\": \"b\", \"text\": \"y\"}\n"
      "{\"id\": \"a\", \"text\": \"z\"}\n"
      "{\"id\": \"line-5\", \"text\": \"given\"}\n"
      "{\"text\": \"generated line-5\"}\n");
  ASSERT_EQ(d.errors.size(), 2u);
  EXPECT_EQ(d.errors[0].line, 3);
  expect_has(d.errors[0].message,
             "data.jsonl:3: field 'id': duplicate id 'a', also used on line 1");
  EXPECT_EQ(d.errors[1].line, 5);
  expect_has(d.errors[1].message, "duplicate id 'line-5' (given to a line without an id)");
  ASSERT_EQ(d.items.size(), 3u);
  EXPECT_EQ(d.items[2].text, "given");
}

TEST(Dataset, InvalidUtf8IsReportedWithItsColumn) {
  auto m = error_of("{\"text\": \"caf\xC3\"}");
  expect_has(m, "data.jsonl:2: not valid UTF-8");
  expect_has(m, "column 14");
  expect_has(error_of("{\"text\": \"\xFF\"}"), "byte 0xff at column 11 cannot start");
}

TEST(Dataset, Utf8Validation) {
  EXPECT_FALSE(utf8_problem("plain, caf\xC3\xA9, \xE2\x82\xAC, \xF0\x9F\x98\x80").has_value());
  EXPECT_NE(utf8_problem("\xC0\xAF")->find("overlong"), std::string::npos);
  EXPECT_NE(utf8_problem("\xED\xA0\x80")->find("surrogate"), std::string::npos);
  EXPECT_NE(utf8_problem("\xF4\x90\x80\x80")->find("above U+10FFFF"), std::string::npos);
  EXPECT_NE(utf8_problem("ab\xE2\x82")->find("cut short at column 3"), std::string::npos);
  EXPECT_NE(utf8_problem("\xE2(x")->find("breaks the UTF-8 character"), std::string::npos);
}

TEST(Dataset, StrictPolicyThrowsTheFirstError) {
  try {
    parse_dataset("data.jsonl", "{\"text\": \"ok\"}\n{\"text\": 1}\n{}\n", kLabels,
                  BadLinePolicy::strict);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "data.jsonl:2");
    expect_has(e.what(), "field 'text'");
  }
}

TEST(Dataset, CollectPolicyReportsEveryBadLineAndKeepsTheGoodOnes) {
  Dataset d = collect("{}\n{\"text\": \"ok\"}\nnot json\n\n{\"text\": \"x\", \"label\": \"?\"}\n");
  ASSERT_EQ(d.errors.size(), 3u);
  EXPECT_EQ(d.errors[0].line, 1);
  EXPECT_EQ(d.errors[1].line, 3);
  EXPECT_EQ(d.errors[2].line, 5);
  ASSERT_EQ(d.items.size(), 1u);
  EXPECT_EQ(d.items[0].id, "line-2");
}

TEST(Dataset, CollectedMessagesAreCappedButCounted) {
  std::string content;
  for (std::size_t i = 0; i < kMaxReportedErrors + 5; ++i) content += "{}\n";
  Dataset d = collect(content);
  EXPECT_EQ(d.errors.size(), kMaxReportedErrors);
  EXPECT_EQ(d.error_count, kMaxReportedErrors + 5);
}

TEST(Dataset, ReadsAFileAndNamesItInErrors) {
  testing::TempDir dir;
  write_file_atomically(dir / "d.jsonl", "{\"text\": \"a\"}\n{\"text\": \"b\", \"label\": 2}\n");
  Dataset d = read_dataset(dir / "d.jsonl", kLabels, BadLinePolicy::collect);
  ASSERT_EQ(d.errors.size(), 1u);
  expect_has(d.errors[0].message, path_utf8(dir / "d.jsonl") + ":2: field 'label'");
  EXPECT_THROW(read_dataset(dir / "missing.jsonl", kLabels, BadLinePolicy::strict), InputError);
}

}  // namespace
}  // namespace tandem::distill
