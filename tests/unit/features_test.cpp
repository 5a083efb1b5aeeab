#include "trainer/distill/features.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/error.h"
#include "trainer/distill/base64.h"
#include "trainer/distill/rng.h"

namespace tandem::distill {
namespace {

TEST(Features, Fnv1a64KnownValues) {
  // Reference values of the published FNV-1a 64 test suite.
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

TEST(Features, FeatureStringsAreLowercaseWordsBigramsAndBoundedTrigrams) {
  std::vector<std::string> expected = {"w:hi",  "b:hi there", "c:<hi", "c:hi>", "w:there",
                                       "c:<th", "c:the",      "c:her", "c:ere", "c:re>"};
  EXPECT_EQ(feature_strings("Hi, THERE!"), expected);
  EXPECT_EQ(feature_strings("a"), (std::vector<std::string>{"w:a", "c:<a>"}));
  EXPECT_TRUE(feature_strings(" ,.!? ").empty());
}

TEST(Features, TrigramsCountCodePointsNotBytes) {
  // "é" is two bytes and one code point; it stays inside the word and is not case-folded.
  EXPECT_EQ(feature_strings("\xC3\xA9t\xC3\xA9"),
            (std::vector<std::string>{"w:\xC3\xA9t\xC3\xA9", "c:<\xC3\xA9t", "c:\xC3\xA9t\xC3\xA9",
                                      "c:t\xC3\xA9>"}));
}

// These pin the file format: if any changes, student models made elsewhere no longer load
// correctly, and kFeatureSpecVersion must be bumped.
TEST(Features, PinnedBucketIndices) {
  SparseVector v = extract_features("Hello world", kDefaultBuckets);
  std::vector<std::uint32_t> expected = {14486,  78666,  90133,  101727, 102861, 107595, 113140,
                                         195916, 203819, 210759, 211449, 240096, 249826};
  EXPECT_EQ(v.index, expected);
  EXPECT_EQ(fnv1a64("w:hello") % kDefaultBuckets, 113140u);
  EXPECT_EQ(extract_features("x", 16).index, (std::vector<std::uint32_t>{4, 6}));
}

TEST(Features, SortedUnitNormAndDeterministic) {
  const std::string text = "The cat sat on the mat; the CAT sat.";
  SparseVector a = extract_features(text, 1024);
  SparseVector b = extract_features(text, 1024);
  EXPECT_EQ(a.index, b.index);
  EXPECT_EQ(a.value, b.value);
  double norm = 0;
  for (std::size_t i = 0; i < a.index.size(); ++i) {
    if (i > 0) {
      EXPECT_LT(a.index[i - 1], a.index[i]);
    }
    EXPECT_LT(a.index[i], 1024u);
    norm += double{a.value[i]} * double{a.value[i]};
  }
  EXPECT_NEAR(norm, 1.0, 1e-6);
  EXPECT_EQ(extract_features("the cat", 1024).index, extract_features("THE  Cat!", 1024).index);
}

TEST(Features, RepeatsWeighMoreAndEmptyTextHasNoFeatures) {
  SparseVector once = extract_features("spam eggs", 1u << 20);
  SparseVector twice = extract_features("spam spam eggs", 1u << 20);
  const auto w_spam = static_cast<std::uint32_t>(fnv1a64("w:spam") % (1u << 20));
  const auto w_eggs = static_cast<std::uint32_t>(fnv1a64("w:eggs") % (1u << 20));
  auto value = [](const SparseVector& v, std::uint32_t index) {
    for (std::size_t i = 0; i < v.index.size(); ++i) {
      if (v.index[i] == index) return v.value[i];
    }
    return 0.0f;
  };
  EXPECT_FLOAT_EQ(value(once, w_spam), value(once, w_eggs));
  EXPECT_GT(value(twice, w_spam), value(twice, w_eggs));
  EXPECT_TRUE(extract_features("...", 1024).index.empty());
}

TEST(Features, BucketCountOutOfRangeIsAnError) {
  EXPECT_THROW(extract_features("x", kMinBuckets - 1), Error);
  EXPECT_THROW(extract_features("x", kMaxBuckets + 1), Error);
}

TEST(PortableRandom, SplitMix64ReferenceSequenceAndShuffle) {
  SplitMix64 rng(0);
  EXPECT_EQ(rng.next(), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(rng.next(), 0x6e789e6aa1b965f4ULL);
  SplitMix64 a(7), b(7);
  std::vector<int> x = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, y = x;
  portable_shuffle(x, a);
  portable_shuffle(y, b);
  EXPECT_EQ(x, y);
  EXPECT_EQ(x, (std::vector<int>{8, 1, 5, 9, 0, 4, 3, 2, 6, 7}));
  for (int i = 0; i < 1000; ++i) EXPECT_LT(a.below(3), 3u);
}

TEST(Base64, RoundTripsAndRejectsNonCanonicalText) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  EXPECT_EQ(base64_decode(base64_encode(all)), all);
  EXPECT_EQ(base64_decode("Zm8="), "fo");
  EXPECT_FALSE(base64_decode("Zm8").has_value());
  EXPECT_FALSE(base64_decode("Zm9=").has_value());  // non-zero bits under the padding
  EXPECT_FALSE(base64_decode("Z=8=").has_value());
  EXPECT_FALSE(base64_decode("Zm8*").has_value());
}

}  // namespace
}  // namespace tandem::distill
