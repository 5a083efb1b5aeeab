// Synthetic labelled texts for the distill tests: each label has its own vocabulary, and every
// text mixes two of its label's words with noise words shared by all labels and, in a third of
// the texts, one distracting word of another label.
#pragma once

#include <string>
#include <vector>

#include "trainer/distill/rng.h"
#include "trainer/distill/student.h"

namespace tandem::distill::testing {

struct SyntheticItem {
  std::string id;
  std::string text;
  std::size_t label;
};

inline std::vector<SyntheticItem> synthetic_items(std::size_t count, std::size_t label_count,
                                                  std::uint64_t seed = 99) {
  const std::vector<std::vector<std::string>> vocab = {
      {"sunny", "bright", "warm", "clear", "beach", "summer", "blue", "calm", "dry", "hot"},
      {"rain", "storm", "wet", "cloudy", "thunder", "umbrella", "grey", "wind", "cold", "flood"},
      {"snow", "ice", "frost", "winter", "sleet", "blizzard", "freezing", "sled", "skate", "hail"},
  };
  const std::vector<std::string> noise = {"the",   "a",     "today", "was",  "very", "in",
                                          "city",  "we",    "saw",   "it",   "and",  "then",
                                          "later", "quite", "some",  "town", "day",  "of"};
  SplitMix64 rng(seed);
  std::vector<SyntheticItem> items;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t label = static_cast<std::size_t>(rng.below(label_count));
    std::vector<std::string> words;
    for (int w = 0; w < 2; ++w) words.push_back(vocab[label][rng.below(vocab[label].size())]);
    for (int w = 0; w < 5; ++w) words.push_back(noise[rng.below(noise.size())]);
    if (rng.below(3) == 0) {
      const std::size_t other = (label + 1 + rng.below(label_count - 1)) % label_count;
      words.push_back(vocab[other][rng.below(vocab[other].size())]);
    }
    portable_shuffle(words, rng);
    std::string text;
    for (const auto& w : words) text += (text.empty() ? "" : " ") + w;
    items.push_back({"item-" + std::to_string(i), text, label});
  }
  return items;
}

inline std::vector<LabelledText> as_examples(const std::vector<SyntheticItem>& items) {
  std::vector<LabelledText> out;
  for (const auto& item : items) out.push_back({item.text, item.label});
  return out;
}
// The examples view the items' texts: the items must outlive them.
std::vector<LabelledText> as_examples(std::vector<SyntheticItem>&&) = delete;

}  // namespace tandem::distill::testing
