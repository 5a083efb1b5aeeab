#include "trainer/distill/features.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "common/error.h"

namespace tandem::distill {
namespace {

bool is_word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> words;
  std::string current;
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (is_word_byte(c)) {
      current += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : ch;
    } else if (!current.empty()) {
      words.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) words.push_back(std::move(current));
  return words;
}

// Code points as byte strings: a continuation byte (10xxxxxx) joins the one before it. Works on
// any bytes, so an invalid sequence only changes its own trigrams.
std::vector<std::string_view> code_points(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 1; i <= s.size(); ++i) {
    if (i == s.size() || (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      out.push_back(s.substr(start, i - start));
      start = i;
    }
  }
  return out;
}

void add_char_trigrams(const std::string& word, std::vector<std::string>& out) {
  std::vector<std::string_view> units{"<"};
  for (auto cp : code_points(word)) units.push_back(cp);
  units.push_back(">");
  for (std::size_t i = 0; i + 3 <= units.size(); ++i) {
    out.push_back("c:" + std::string(units[i]) + std::string(units[i + 1]) +
                  std::string(units[i + 2]));
  }
}

}  // namespace

std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::vector<std::string> feature_strings(std::string_view text) {
  std::vector<std::string> words = words_of(text);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    out.push_back("w:" + words[i]);
    if (i + 1 < words.size()) out.push_back("b:" + words[i] + " " + words[i + 1]);
    add_char_trigrams(words[i], out);
  }
  return out;
}

SparseVector extract_features(std::string_view text, std::uint32_t buckets) {
  if (buckets < kMinBuckets || buckets > kMaxBuckets) {
    throw Error("feature bucket count " + std::to_string(buckets) + " is outside [" +
                std::to_string(kMinBuckets) + ", " + std::to_string(kMaxBuckets) + "]");
  }
  std::map<std::uint32_t, double> counts;
  for (const auto& f : feature_strings(text)) {
    counts[static_cast<std::uint32_t>(fnv1a64(f) % buckets)] += 1.0;
  }
  double norm = 0;
  for (const auto& [index, count] : counts) norm += count * count;
  norm = std::sqrt(norm);
  SparseVector v;
  v.index.reserve(counts.size());
  v.value.reserve(counts.size());
  for (const auto& [index, count] : counts) {
    v.index.push_back(index);
    v.value.push_back(static_cast<float>(count / norm));
  }
  return v;
}

}  // namespace tandem::distill
