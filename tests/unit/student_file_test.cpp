#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/distill_synthetic.h"
#include "trainer/distill/student.h"

namespace tandem::distill {
namespace {

const std::vector<std::string> kLabels = {"fair", "wet", "frozen"};

Student trained() {
  TrainOptions options;
  options.epochs = 3;
  options.buckets = 1u << 12;
  auto items = testing::synthetic_items(150, 3);
  return train_student(kLabels, testing::as_examples(items), options);
}

TEST(StudentFile, SavedAndReloadedModelPredictsIdentically) {
  tandem::testing::TempDir dir;
  Student original = trained();
  original.save(dir / "student.json");
  Student loaded = Student::load(dir / "student.json");
  EXPECT_EQ(loaded.labels(), original.labels());
  EXPECT_EQ(loaded.buckets(), original.buckets());
  EXPECT_EQ(loaded.weights(), original.weights());  // bit for bit (float ==, no NaN possible)
  EXPECT_EQ(loaded.bias(), original.bias());
  EXPECT_EQ(loaded.to_json(), original.to_json());
  for (const auto& item : testing::synthetic_items(40, 3, 1234)) {
    Prediction a = original.predict(item.text), b = loaded.predict(item.text);
    EXPECT_EQ(a.index, b.index);
    EXPECT_EQ(a.probabilities, b.probabilities);
  }
}

TEST(StudentFile, StoresOnlyUsedRowsAndTheFeatureSpec) {
  std::vector<float> weights(16 * 2, 0.0f);
  weights[3 * 2 + 1] = -1.5f;
  Student s({"no", "yes"}, 16, weights, {0.25f, -0.25f});
  auto doc = nlohmann::json::parse(s.to_json());
  EXPECT_EQ(doc["format"], "tandem-student");
  EXPECT_EQ(doc["features"]["hash"], "fnv1a64");
  EXPECT_EQ(doc["features"]["spec_version"], kFeatureSpecVersion);
  EXPECT_EQ(doc["features"]["buckets"], 16);
  EXPECT_EQ(doc["bias"], nlohmann::json({0.25, -0.25}));
  EXPECT_EQ(doc["weights"]["rows"], "AwAAAA==");        // bucket 3, uint32 little-endian
  EXPECT_EQ(doc["weights"]["values"], "AAAAAAAAwL8=");  // 0.0f, -1.5f, float32 little-endian
}

// The message of loading `text` as "m.json", which must fail.
std::string load_error(const std::string& text) {
  try {
    Student::from_json("m.json", text);
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "loaded: " << text;
  return "";
}

nlohmann::json valid_doc() {
  return nlohmann::json::parse(
      Student({"no", "yes"}, 16, std::vector<float>(32, 0.5f), {0, 0}).to_json());
}

std::string with(const std::string& pointer, const nlohmann::json& value) {
  auto doc = valid_doc();
  doc[nlohmann::json::json_pointer(pointer)] = value;
  return doc.dump(2);
}

void expect_has(const std::string& message, const std::string& part) {
  EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
}

TEST(StudentFile, LoadErrorsNameTheFileLineAndField) {
  expect_has(load_error("{"), "m.json:1:");
  expect_has(load_error(with("/format", "other")),
             "m.json:11: field 'format': expected \"tandem-student\"");
  expect_has(load_error(with("/version", 2)), "field 'version': this build reads version 1 only");
  expect_has(load_error(with("/labels", {"a"})), "field 'labels': a student needs at least two");
  expect_has(load_error(with("/labels", {"a", 1})), "field 'labels': expected an array of strings");
  expect_has(load_error(with("/bias", {0})), "field 'bias': expected an array of 2 numbers");
  expect_has(load_error(with("/features/spec_version", 2)),
             "field 'spec_version': this build computes features version 1 only");
  expect_has(load_error(with("/features/hash", "crc32")), "field 'hash'");
  expect_has(load_error(with("/features/buckets", 3)), "field 'buckets': expected an integer");
  expect_has(load_error(with("/weights/rows", "!!!!")), "field 'rows': not valid base64");
  expect_has(load_error(with("/weights/rows", "AwAAAA==")),
             "field 'values': holds 16 rows of weights but 'rows' names 1");
  expect_has(load_error(with("/extra", 1)), "field 'extra': unknown field");
  auto doc = valid_doc();
  doc.erase("weights");
  expect_has(load_error(doc.dump()), "field 'weights': missing");
}

TEST(StudentFile, RejectsRowsOutOfRangeOrOutOfOrder) {
  Student s({"no", "yes"}, 16, std::vector<float>(32, 1.0f), {0, 0});
  auto doc = nlohmann::json::parse(s.to_json());
  doc["features"]["buckets"] = 17;
  EXPECT_NO_THROW(Student::from_json("m.json", doc.dump()));  // more buckets than rows is fine
  doc["features"]["buckets"] = 16;
  doc["weights"]["rows"] = "AQAAAAAAAAA=";  // rows 1 then 0, values for two rows below
  doc["weights"]["values"] = "AAAAAAAAAAAAAAAAAAAAAA==";
  expect_has(load_error(doc.dump()),
             "field 'rows': entry 1 (bucket 0) is out of range or not ascending");
}

TEST(StudentFile, MissingFileIsANamedError) {
  tandem::testing::TempDir dir;
  try {
    Student::load(dir / "none.json");
    FAIL();
  } catch (const InputError& e) {
    expect_has(e.what(), "none.json: file not found");
  }
}

}  // namespace
}  // namespace tandem::distill
