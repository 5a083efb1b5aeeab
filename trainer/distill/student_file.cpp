// The student model file. Example (weights shortened):
//   {"format": "tandem-student", "version": 1, "labels": ["neg", "pos"],
//    "features": {"hash": "fnv1a64", "spec_version": 1, "buckets": 262144},
//    "bias": [0.12, -0.12], "answer_threshold": 0.83 (optional),
//    "weights": {"encoding": "base64-le", "rows": "...", "values": "..."}}
// "rows": the buckets with any non-zero weight, ascending, as little-endian uint32;
// "values": for each row, one little-endian float32 per label, in label order.
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>

#include "common/files.h"
#include "common/json_fields.h"
#include "common/json_source.h"
#include "trainer/distill/base64.h"
#include "trainer/distill/student.h"

namespace tandem::distill {
namespace {

constexpr const char* kFormat = "tandem-student";
constexpr int kVersion = 1;
constexpr const char* kHash = "fnv1a64";
constexpr const char* kEncoding = "base64-le";

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 0; shift < 32; shift += 8) out += static_cast<char>((v >> shift) & 0xff);
}

std::uint32_t get_u32(const std::string& in, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    v |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  }
  return v;
}

std::string decode(ObjectReader& reader, const std::string& key, std::size_t unit) {
  auto text = reader.string(key);
  if (!text) reader.fail(key, "missing");
  auto bytes = base64_decode(*text);
  if (!bytes) reader.fail(key, "not valid base64");
  if (bytes->size() % unit != 0) {
    reader.fail(key, "length is not a multiple of " + std::to_string(unit) + " bytes");
  }
  return *bytes;
}

std::vector<std::string> read_labels(const JsonSource& source, ObjectReader& top) {
  const nlohmann::json* labels =
      source.root().contains("labels") ? &source.root()["labels"] : nullptr;
  if (!labels || !labels->is_array()) top.fail("labels", "expected an array of strings");
  std::vector<std::string> out;
  for (const auto& l : *labels) {
    if (!l.is_string()) top.fail("labels", "expected an array of strings");
    out.push_back(l.get<std::string>());
  }
  try {
    check_student_labels(out);
  } catch (const Error& e) {
    top.fail("labels", e.what());
  }
  return out;
}

std::vector<float> read_bias(const JsonSource& source, ObjectReader& top, std::size_t k_count) {
  const nlohmann::json* bias = source.root().contains("bias") ? &source.root()["bias"] : nullptr;
  if (!bias || !bias->is_array() || bias->size() != k_count) {
    top.fail("bias", "expected an array of " + std::to_string(k_count) + " numbers, one per label");
  }
  std::vector<float> out;
  for (const auto& v : *bias) {
    if (!v.is_number() || !(std::abs(v.get<double>()) <= std::numeric_limits<float>::max())) {
      top.fail("bias", "expected finite numbers");
    }
    out.push_back(static_cast<float>(v.get<double>()));
  }
  return out;
}

// ObjectReader::reject_unknown only knows the fields read through it, and arrays are not.
void reject_other_fields(const JsonSource& source, ObjectReader& top) {
  static const std::set<std::string> known = {"format", "version", "labels",          "features",
                                              "bias",   "weights", "answer_threshold"};
  for (const auto& [key, value] : source.root().items()) {
    if (!known.count(key)) top.fail(key, "unknown field");
  }
}

}  // namespace

std::string Student::to_json() const {
  const std::size_t k_count = labels_.size();
  std::string rows, values;
  for (std::uint32_t b = 0; b < buckets_; ++b) {
    const float* row = &weights_[std::size_t{b} * k_count];
    bool used = false;
    for (std::size_t k = 0; k < k_count; ++k) used = used || row[k] != 0.0f;
    if (!used) continue;
    put_u32(rows, b);
    for (std::size_t k = 0; k < k_count; ++k) put_u32(values, std::bit_cast<std::uint32_t>(row[k]));
  }
  nlohmann::json bias = nlohmann::json::array();
  for (float v : bias_) bias.push_back(double{v});  // a float is exact as a double, and back
  nlohmann::json doc = {
      {"format", kFormat},
      {"version", kVersion},
      {"labels", labels_},
      {"features", {{"hash", kHash}, {"spec_version", kFeatureSpecVersion}, {"buckets", buckets_}}},
      {"bias", bias},
      {"weights",
       {{"encoding", kEncoding}, {"rows", base64_encode(rows)}, {"values", base64_encode(values)}}},
  };
  if (answer_threshold_) doc["answer_threshold"] = *answer_threshold_;
  return doc.dump(2) + "\n";
}

Student Student::from_json(const std::string& origin, std::string_view text) {
  JsonSource source(origin, text);
  ObjectReader top(source);
  if (top.string("format") != kFormat) {
    top.fail("format", std::string("expected \"") + kFormat + "\" (not a student model file?)");
  }
  if (top.integer("version", 0, std::numeric_limits<int>::max()) != kVersion) {
    top.fail("version", "this build reads version " + std::to_string(kVersion) + " only");
  }
  std::vector<std::string> labels = read_labels(source, top);
  const std::size_t k_count = labels.size();
  std::vector<float> bias = read_bias(source, top, k_count);
  if (!top.has("features")) top.fail("features", "missing");
  if (!top.has("weights")) top.fail("weights", "missing");
  reject_other_fields(source, top);

  ObjectReader features(source, "/features");
  if (features.string("hash") != kHash) {
    features.fail("hash", std::string("expected \"") + kHash + "\"");
  }
  if (features.integer("spec_version", 0, std::numeric_limits<int>::max()) != kFeatureSpecVersion) {
    features.fail("spec_version", "this build computes features version " +
                                      std::to_string(kFeatureSpecVersion) + " only");
  }
  const auto buckets = features.integer("buckets", kMinBuckets, kMaxBuckets);
  if (!buckets) features.fail("buckets", "missing");
  features.reject_unknown();

  ObjectReader weights(source, "/weights");
  if (weights.string("encoding") != kEncoding) {
    weights.fail("encoding", std::string("expected \"") + kEncoding + "\"");
  }
  const std::string rows = decode(weights, "rows", 4);
  const std::string values = decode(weights, "values", 4 * k_count);
  if (values.size() / (4 * k_count) != rows.size() / 4) {
    weights.fail("values", "holds " + std::to_string(values.size() / (4 * k_count)) +
                               " rows of weights but 'rows' names " +
                               std::to_string(rows.size() / 4));
  }
  weights.reject_unknown();

  const auto bucket_count = static_cast<std::uint32_t>(*buckets);
  std::vector<float> dense(std::size_t{bucket_count} * k_count, 0.0f);
  std::int64_t previous = -1;
  for (std::size_t r = 0; r < rows.size() / 4; ++r) {
    const std::uint32_t b = get_u32(rows, 4 * r);
    if (b >= bucket_count || std::int64_t{b} <= previous) {
      weights.fail("rows", "entry " + std::to_string(r) + " (bucket " + std::to_string(b) +
                               ") is out of range or not ascending");
    }
    previous = b;
    for (std::size_t k = 0; k < k_count; ++k) {
      const float v = std::bit_cast<float>(get_u32(values, 4 * (r * k_count + k)));
      if (!std::isfinite(v)) weights.fail("values", "row " + std::to_string(r) + " is not finite");
      dense[std::size_t{b} * k_count + k] = v;
    }
  }
  Student student(std::move(labels), bucket_count, std::move(dense), std::move(bias));
  student.set_answer_threshold(top.number("answer_threshold", 0, 2));
  return student;
}

void Student::save(const std::filesystem::path& file) const {
  write_file_atomically(file, to_json());
}

Student Student::load(const std::filesystem::path& file) {
  return from_json(path_utf8(file), read_file(file));
}

}  // namespace tandem::distill
