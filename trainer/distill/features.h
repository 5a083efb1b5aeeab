// Hashed n-gram features of a text, the student model's input.
//
// The hashing is part of the student model file format: a model trained on one machine must see
// the same features on every other, so every step here is fixed and byte-based (no locale, no
// std::hash). A change to any step must bump kFeatureSpecVersion. Version 1:
//   - words: maximal runs of ASCII letters and digits and of bytes >= 0x80 (so UTF-8 letters stay
//     inside words); ASCII A-Z lowercased, nothing else folded;
//   - features: "w:" + word, "b:" + word + " " + next word, and "c:" + each window of three code
//     points of "<" + word + ">" (one "<x>" for a one-code-point word);
//   - bucket = FNV-1a 64 of the feature's UTF-8 bytes, modulo the bucket count;
//   - value = occurrences in the bucket, then the vector is scaled to unit L2 norm.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::distill {

inline constexpr int kFeatureSpecVersion = 1;
inline constexpr std::uint32_t kDefaultBuckets = 1u << 18;
inline constexpr std::uint32_t kMinBuckets = 16;
inline constexpr std::uint32_t kMaxBuckets = 1u << 22;

// FNV-1a, 64-bit: offset basis 0xcbf29ce484222325, prime 0x100000001b3.
std::uint64_t fnv1a64(std::string_view bytes);

// Sorted by index, no duplicates, unit L2 norm (or empty for a text without words).
struct SparseVector {
  std::vector<std::uint32_t> index;
  std::vector<float> value;
};

// The feature strings of `text` before hashing, in order of appearance (repeats kept).
std::vector<std::string> feature_strings(std::string_view text);

// `buckets` in [kMinBuckets, kMaxBuckets].
SparseVector extract_features(std::string_view text, std::uint32_t buckets = kDefaultBuckets);

}  // namespace tandem::distill
