// The slot choice and cache reuse rules over plain token vectors, without a model.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include "inference/prompt_cache.h"

namespace tandem::inference {
namespace {

SlotCache cache(std::vector<Token> tokens, std::uint64_t last_used = 0) {
  SlotCache c;
  c.tokens = std::move(tokens);
  c.last_used = last_used;
  return c;
}

// Scores as a scored prompt leaves them: piece i's logprob is -i, with `top` alternatives.
void score(SlotCache& c, int top) {
  c.scores.clear();
  for (std::size_t i = 0; i < c.tokens.size(); ++i) {
    Piece p;
    p.logprob = i == 0 ? std::numeric_limits<float>::quiet_NaN() : -static_cast<float>(i);
    p.top.assign(static_cast<std::size_t>(top), TokenLogprob{"t" + std::to_string(i), -1});
    c.scores.push_back(p);
  }
  c.scores_top = top;
}

std::vector<Piece> unscored(std::size_t n) {
  return std::vector<Piece>(n, Piece{"", std::numeric_limits<float>::quiet_NaN(), {}, 1});
}

TEST(ChooseSlot, TheSlotWhoseCacheStartsAsThePromptWinsOverTheLeastRecentlyUsed) {
  const SlotCache unrelated = cache({7, 7, 7}, 1), conversation = cache({1, 2, 3, 4}, 9);
  const std::vector<const SlotCache*> caches{&unrelated, &conversation};
  EXPECT_EQ(choose_slot(caches, {1, 2, 3, 4, 5, 6}), 1u);
}

TEST(ChooseSlot, TheLongestSharedStartWins) {
  const SlotCache short_start = cache({1, 2, 3, 8}, 1), long_start = cache({1, 2, 3, 4, 5}, 9);
  const std::vector<const SlotCache*> caches{&short_start, &long_start};
  EXPECT_EQ(choose_slot(caches, {1, 2, 3, 4, 5, 6}), 1u);
}

TEST(ChooseSlot, AnUnrelatedPromptTakesTheLeastRecentlyUsedSlot) {
  const SlotCache a = cache({1, 2}, 7), b = cache({3, 4}, 2), c = cache({5, 6}, 5);
  const std::vector<const SlotCache*> caches{&a, &b, &c};
  EXPECT_EQ(choose_slot(caches, {9, 9, 9}), 1u);
}

TEST(ChooseSlot, ASharedStartShorterThanHalfCountsAsUnrelated) {
  // One shared token of four (a BOS alone): the least recently used slot is taken instead.
  const SlotCache bos_only = cache({1, 2, 3, 4}, 5), older = cache({8, 8, 8, 8}, 3);
  const std::vector<const SlotCache*> caches{&bos_only, &older};
  EXPECT_EQ(choose_slot(caches, {1, 9, 9, 9}), 1u);
  // Two of six is not enough either.
  const SlotCache longer = cache({1, 2, 3, 4, 5, 6}, 5);
  EXPECT_EQ(choose_slot(std::vector<const SlotCache*>{&longer, &older}, {1, 2, 9, 9, 9, 9}), 1u);
  // Exactly half of the shorter of the two counts.
  EXPECT_EQ(choose_slot(caches, {1, 2, 9, 9, 9, 9}), 0u);
  // The shorter may be the prompt: two of its three tokens are shared.
  EXPECT_EQ(choose_slot(caches, {1, 2, 9}), 0u);
}

TEST(ChooseSlot, ABusySlotIsNeverChosenAndNoneWhenAllAreBusy) {
  const SlotCache other = cache({5, 5}, 4);
  // Slot 0 (null: busy) would share the whole prompt.
  EXPECT_EQ(choose_slot(std::vector<const SlotCache*>{nullptr, &other}, {1, 2, 3}), 1u);
  EXPECT_EQ(choose_slot(std::vector<const SlotCache*>{nullptr, nullptr}, {1, 2, 3}), std::nullopt);
  EXPECT_EQ(choose_slot(std::vector<const SlotCache*>{}, {1}), std::nullopt);
}

TEST(SlotCacheReuse, KeepsTheSharedStartButNeverThePromptsLastToken) {
  const SlotCache c = cache({1, 2, 3, 4, 5});
  EXPECT_EQ(c.reusable({1, 2, 3, 9}, std::nullopt, false), 3u);
  EXPECT_EQ(c.reusable({1, 2, 3, 4, 5, 6, 7}, std::nullopt, false), 5u);
  // The same prompt again: its last token is decoded again, for the logits to sample from.
  EXPECT_EQ(c.reusable({1, 2, 3, 4, 5}, std::nullopt, false), 4u);
  EXPECT_EQ(c.reusable({9, 2, 3}, std::nullopt, false), 0u);
}

TEST(SlotCacheReuse, ACacheThatLostItsStartIsNotReused) {
  const SlotCache c = cache({1, 2, 3, 4, 5});
  EXPECT_EQ(c.reusable({1, 2, 3, 4, 5, 6}, std::nullopt, true), 0u);
}

TEST(SlotCacheReuse, AScoredPromptKeepsOnlyScoredTokensAndScoresTheFirstDecodedOne) {
  SlotCache c = cache({1, 2, 3, 4, 5});
  score(c, 2);
  // Four shared: tokens 0..2 kept, token 3 decoded again to have its logprob from token 2's.
  EXPECT_EQ(c.reusable({1, 2, 3, 4, 9}, 2, false), 3u);
  EXPECT_EQ(c.reusable({1, 2, 3, 4, 9}, std::nullopt, false), 4u);
  // Other alternatives asked for: the kept scores do not fit.
  EXPECT_EQ(c.reusable({1, 2, 3, 4, 9}, 3, false), 0u);
  // A generation made the cache longer than its scores: only the scored part counts.
  c.tokens.insert(c.tokens.end(), {6, 7});
  EXPECT_EQ(c.reusable({1, 2, 3, 4, 5, 6, 7, 8}, 2, false), 4u);
  EXPECT_EQ(c.reusable({1, 2, 3, 4, 5, 6, 7, 8}, 2, true), 0u);
}

TEST(SlotCacheReuse, APromptScoredOnAnUnscoredCacheStartsFromNothing) {
  const SlotCache c = cache({1, 2, 3, 4, 5});
  EXPECT_EQ(c.reusable({1, 2, 3, 4, 9}, 0, false), 0u);
}

TEST(SlotCacheKeep, TruncatesAndHandsTheKeptScoresToTheNewPrompt) {
  SlotCache c = cache({1, 2, 3, 4, 5});
  score(c, 2);
  auto pieces = unscored(6);
  c.keep(3, pieces);
  EXPECT_EQ(c.tokens, (std::vector<Token>{1, 2, 3}));
  ASSERT_EQ(c.scores.size(), 3u);
  EXPECT_TRUE(std::isnan(pieces[0].logprob));  // the first token has no logprob
  for (std::size_t i = 1; i <= 3; ++i) {
    EXPECT_EQ(pieces[i].logprob, -static_cast<float>(i)) << i;
    ASSERT_EQ(pieces[i].top.size(), 2u) << i;
    EXPECT_EQ(pieces[i].top[0].token, "t" + std::to_string(i));
  }
  for (std::size_t i = 4; i < pieces.size(); ++i) {
    EXPECT_TRUE(std::isnan(pieces[i].logprob)) << i;  // decoded and scored anew
    EXPECT_TRUE(pieces[i].top.empty()) << i;
  }
}

TEST(SlotCacheKeep, WithoutAScoredPromptOnlyTruncates) {
  SlotCache c = cache({1, 2, 3, 4, 5});
  score(c, 1);
  std::vector<Piece> none;
  c.keep(2, none);
  EXPECT_EQ(c.tokens, (std::vector<Token>{1, 2}));
  EXPECT_EQ(c.scores.size(), 2u);
  c.keep(0, none);
  EXPECT_TRUE(c.tokens.empty());
  EXPECT_TRUE(c.scores.empty());
}

}  // namespace
}  // namespace tandem::inference
