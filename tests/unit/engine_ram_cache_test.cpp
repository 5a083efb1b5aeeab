// The RAM prompt cache (cache_ram_mib): its bound and choice rules over plain bytes, then the
// engine on the tiny model restoring a slot state that other traffic evicted.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "inference/engine.h"
#include "inference/prompt_cache.h"
#include "inference/ram_cache.h"
#include "tests/support/engine_calls.h"

namespace tandem::inference {
namespace {

using testing::greedy;

SavedState state(std::vector<Token> tokens, std::size_t bytes) {
  return {std::move(tokens), std::vector<std::uint8_t>(bytes, 7)};
}

TEST(RamCache, NeverHoldsMoreThanItsBoundDroppingTheLeastRecentlyUsed) {
  RamCache cache(100);
  cache.put(state({1, 2, 3, 4}, 40));
  cache.put(state({5, 6, 7, 8}, 40));
  cache.put(state({9, 10, 11, 12}, 40));  // the first one goes
  EXPECT_EQ(cache.stats().bytes, 80u);
  EXPECT_EQ(cache.stats().states, 2u);
  EXPECT_FALSE(cache.take({1, 2, 3, 4, 99}, 0));
  EXPECT_TRUE(cache.take({5, 6, 7, 8, 99}, 0));
  cache.put(state({20, 21}, 101));  // larger than the whole cache: not kept
  EXPECT_EQ(cache.stats().bytes, 40u);
  EXPECT_EQ(cache.stats().hits, 1u);
  EXPECT_EQ(cache.stats().misses, 1u);
}

TEST(RamCache, TakesTheLongestSharedStartWhenItIsWorthIt) {
  RamCache cache(1000);
  cache.put(state({1, 2, 3, 4, 5, 6}, 10));
  cache.put(state({1, 2, 9, 9}, 10));
  // A start of the new one's tokens is of no use any more.
  cache.put(state({1, 2, 3, 4, 5, 6, 7, 8}, 10));
  EXPECT_EQ(cache.stats().states, 2u);
  EXPECT_FALSE(cache.take({1, 2, 3, 4, 5, 6, 7, 8, 9}, 8)) << "the slot keeps as much already";
  EXPECT_FALSE(cache.take({1, 2, 30, 31, 32, 33, 34, 35, 36, 37}, 0)) << "under half the prompt";
  const auto taken = cache.take({1, 2, 3, 4, 5, 50}, 0);
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->tokens.size(), 8u);
  EXPECT_EQ(cache.stats().states, 1u) << "taken out: it is in the slot now";
  EXPECT_EQ(cache.stats().bytes, 10u);
}

TEST(RamCache, ZeroDisablesIt) {
  RamCache cache(0);
  EXPECT_FALSE(cache.enabled());
  cache.put(state({1, 2}, 1));
  EXPECT_EQ(cache.stats().states, 0u);
}

struct Run {
  std::string text;
  std::uint64_t decoded = 0;  // prompt tokens decoded for the last request
  int prompt_tokens = 0;
};

// One slot: a prompt, an unrelated one that evicts it, then one sharing the first one's start.
std::vector<Run> evict_and_return(Engine& engine, const std::vector<std::string>& prompts) {
  std::vector<Run> runs;
  for (const auto& prompt : prompts) {
    const auto before = engine.stats().prompt_tokens;
    const CompletionResult r = engine.complete(prompt, greedy(8));
    runs.push_back({r.text, engine.stats().prompt_tokens - before, r.prompt_tokens});
  }
  return runs;
}

const std::string kInstruction =
    "Answer in one word whether the following sentence is about the sea or about the land, "
    "and say nothing else at all: ";
const std::vector<std::string> kPrompts = {kInstruction + "the waves were high",
                                           "Something else entirely, about mountains and snow",
                                           kInstruction + "the hills were green"};

EngineOptions one_slot(int cache_ram_mib) {
  EngineOptions o = testing::engine_options(/*parallel=*/1);
  o.cache_ram_mib = cache_ram_mib;
  return o;
}

TEST(EngineRamCache, APromptEvictedByOtherTrafficIsRestoredAndDecodesOnlyItsEnd) {
  Engine engine(one_slot(16));
  const auto runs = evict_and_return(engine, kPrompts);
  const auto shared =
      shared_start(engine.tokenize(kPrompts[0], true), engine.tokenize(kPrompts[2], true));
  ASSERT_GT(shared * 2, static_cast<std::size_t>(runs[2].prompt_tokens));
  EXPECT_EQ(runs[2].decoded, static_cast<std::uint64_t>(runs[2].prompt_tokens) - shared)
      << "only the end after the shared start is decoded";
  const auto stats = engine.stats();
  EXPECT_EQ(stats.cache_ram_hits, 1u);
  EXPECT_GT(stats.cache_ram_bytes, 0u) << "the unrelated prompt's state was saved in turn";
  EXPECT_LE(stats.cache_ram_bytes, 16u << 20);

  // Greedy output after the restore is what an engine without the cache answers.
  Engine without(one_slot(0));
  const auto expected = evict_and_return(without, kPrompts);
  // Without it, all but the BOS the unrelated prompt left in the slot is decoded again.
  EXPECT_GE(expected[2].decoded + 1, static_cast<std::uint64_t>(expected[2].prompt_tokens));
  EXPECT_EQ(runs[2].text, expected[2].text);
  EXPECT_EQ(runs[0].text, expected[0].text);
  EXPECT_EQ(without.stats().cache_ram_hits, 0u);
  EXPECT_EQ(without.stats().cache_ram_bytes, 0u) << "0 disables it";
}

TEST(EngineRamCache, ANegativeSizeIsRefused) {
  EXPECT_THROW(Engine{one_slot(-1)}, Error);
}

}  // namespace
}  // namespace tandem::inference
