// inference::Engine's embeddings, vocabulary, choices (n > 1) and admission on the tiny model.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/error.h"
#include "inference/engine.h"
#include "tests/support/engine_calls.h"

namespace tandem::inference {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::get_within;
using testing::greedy;
constexpr auto kBound = testing::kEngineBound;

EngineOptions options(int parallel = 3, int ctx_size = 128, int queue_limit = 16) {
  return testing::engine_options(parallel, ctx_size, queue_limit);
}

double norm(const std::vector<float>& v) {
  double sum = 0;
  for (const float x : v) sum += static_cast<double>(x) * x;
  return std::sqrt(sum);
}

double max_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double most = 0;
  for (std::size_t i = 0; i < a.size(); ++i) most = std::max(most, std::fabs(double(a[i]) - b[i]));
  return most;
}

// The InputError `call` throws, or a failure.
template <typename F>
std::string input_error_where(F call) {
  try {
    call();
  } catch (const InputError& e) {
    return e.where();
  }
  ADD_FAILURE() << "expected an InputError";
  return {};
}

class EngineEmbedTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { engine_ = std::make_unique<Engine>(options()); }
  static void TearDownTestSuite() { engine_.reset(); }
  static std::unique_ptr<Engine> engine_;
};
std::unique_ptr<Engine> EngineEmbedTest::engine_;

TEST_F(EngineEmbedTest, EmbeddingsAreUnitVectorsOfTheModelsWidthOnePerInputInOrder) {
  EXPECT_EQ(engine_->embedding_size(), 64);  // the tiny model's n_embd
  const std::vector<EmbeddingInput> inputs = {"The cat sat on the mat.", "Stock prices fell.",
                                              "The cat sat on the mat."};
  const Embeddings e = engine_->embed(inputs);
  ASSERT_EQ(e.vectors.size(), 3u);
  for (const auto& v : e.vectors) {
    ASSERT_EQ(v.size(), 64u);
    EXPECT_NEAR(norm(v), 1.0, 1e-5);
  }
  EXPECT_LT(max_difference(e.vectors[0], e.vectors[2]), 1e-5) << "same text, another vector";
  EXPECT_GT(max_difference(e.vectors[0], e.vectors[1]), 1e-3) << "different texts, one vector";
  int tokens = 0;
  for (const auto& in : inputs) {
    tokens += static_cast<int>(engine_->tokenize(std::get<std::string>(in), true).size());
  }
  EXPECT_EQ(e.prompt_tokens, tokens);

  // Each alone gives its vector again: the order is kept and the batch does not matter.
  for (std::size_t i = 0; i < 2; ++i) {
    const Embeddings alone = engine_->embed({inputs[i]});
    EXPECT_LT(max_difference(alone.vectors.at(0), e.vectors[i]), 1e-4) << i;
  }
  // A text's token ids give the text's vector.
  const auto ids = engine_->tokenize("Stock prices fell.", true);
  const Embeddings by_ids = engine_->embed({std::vector<std::int32_t>(ids.begin(), ids.end())});
  EXPECT_LT(max_difference(by_ids.vectors.at(0), e.vectors[1]), 1e-4);
}

TEST_F(EngineEmbedTest, ManyInputsAreEmbeddedOverSeveralBatches) {
  std::vector<EmbeddingInput> inputs;
  for (int i = 0; i < 20; ++i) inputs.emplace_back("sentence number " + std::to_string(i));
  const Embeddings e = engine_->embed(inputs);
  ASSERT_EQ(e.vectors.size(), 20u);
  std::set<std::vector<float>> distinct(e.vectors.begin(), e.vectors.end());
  EXPECT_EQ(distinct.size(), 20u);
  const Embeddings last = engine_->embed({inputs.back()});
  EXPECT_LT(max_difference(last.vectors.at(0), e.vectors.back()), 1e-4);
}

TEST_F(EngineEmbedTest, BadInputsAreRefusedByTheirIndex) {
  EXPECT_EQ(input_error_where([] { engine_->embed({"fine", ""}); }), "input[1]");
  EXPECT_EQ(input_error_where([] { engine_->embed({}); }), "input");
  EXPECT_EQ(input_error_where([] {
              engine_->embed({"fine", std::vector<std::int32_t>{1, 2, 999999}});
            }),
            "input[1][2]");
  EXPECT_EQ(input_error_where([] { engine_->embed({std::vector<std::int32_t>{}}); }), "input[0]");
  std::string long_text;
  for (int i = 0; i < 200; ++i) long_text += "word ";
  EXPECT_EQ(input_error_where([&] { engine_->embed({"fine", "fine", long_text}); }), "input[2]");
  EXPECT_EQ(engine_->stats().queued, 0);  // nothing refused was left behind
}

TEST_F(EngineEmbedTest, TokenizeAndDetokenizeRoundTrip) {
  const auto with_bos = engine_->tokenize("Hello world", true);
  const auto without = engine_->tokenize("Hello world", false);
  ASSERT_EQ(with_bos.size(), without.size() + 1);
  EXPECT_EQ(engine_->token_piece(with_bos.front()), "<s>");
  EXPECT_EQ(engine_->detokenize(without), " Hello world");  // SPM's leading space, as llama-server
  EXPECT_EQ(engine_->detokenize(with_bos), "<s> Hello world");
  EXPECT_EQ(input_error_where([] { engine_->detokenize({1, -4}); }), "tokens[1]");
  EXPECT_EQ(input_error_where([] { engine_->detokenize({1, 32000}); }), "tokens[1]");
}

SamplingParams sampled(int max_tokens, std::uint32_t seed) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.max_tokens = max_tokens;
  p.seed = seed;
  return p;
}

TEST_F(EngineEmbedTest, ChoicesShareOneDecodedPromptAndDifferBySeed) {
  const std::string prompt = "A prompt no other test of this suite sends, about choices";
  const auto before = engine_->stats();
  std::mutex mutex;
  std::vector<int> streamed(3, 0);
  const auto results =
      engine_->complete_choices(prompt, sampled(10, 77), 3, [&](int choice, const Piece&) {
        std::lock_guard lock(mutex);
        ++streamed.at(static_cast<std::size_t>(choice));
        return true;
      });
  const auto after = engine_->stats();
  ASSERT_EQ(results.size(), 3u);
  const int n_prompt = results[0].prompt_tokens;
  EXPECT_EQ(static_cast<int>(after.prompt_tokens - before.prompt_tokens), n_prompt)
      << "the prompt was decoded more than once";
  std::cout << "3 choices of a " << n_prompt
            << "-token prompt: " << after.prompt_tokens - before.prompt_tokens
            << " prompt tokens decoded\n";
  int generated = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(results[i].prompt_tokens, n_prompt);
    EXPECT_EQ(results[i].completion_tokens, streamed[i]) << i;
    generated += results[i].completion_tokens;
  }
  EXPECT_EQ(static_cast<int>(after.generated_tokens - before.generated_tokens), generated);
  std::set<std::string> texts;
  for (const auto& r : results) texts.insert(r.text);
  EXPECT_EQ(texts.size(), 3u) << "seeds seed+i gave equal texts";
  EXPECT_EQ(after.busy_slots, 0);

  // The same seed gives the same choices again; choice 0 is what one request with it gives.
  const auto again = engine_->complete_choices(prompt, sampled(10, 77), 3);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(again[i].text, results[i].text) << i;
  EXPECT_EQ(engine_->complete(prompt, sampled(10, 77)).text, results[0].text);
}

TEST_F(EngineEmbedTest, GreedyChoicesAreEqual) {
  const SamplingParams p = greedy(8);
  const auto results = engine_->complete_choices("Greedy choices are all alike", p, 2);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_FALSE(results[0].text.empty());
  EXPECT_EQ(results[0].text, results[1].text);
  EXPECT_EQ(input_error_where([&] { engine_->complete_choices("x", p, 4); }), "n");
}

// Generation keeps streaming while a large embeddings request is served: the worker embeds one
// batch between two decode steps. Prints the token gaps it measured.
TEST(EngineEmbedInterleave, GenerationStreamsWhileEmbeddingsAreComputed) {
  Engine engine(options(/*parallel=*/2, /*ctx_size=*/256));
  std::mutex mutex;
  std::vector<Clock::time_point> pieces;
  std::promise<void> started;
  SamplingParams p = greedy(200);
  p.logit_bias = {{2, -100.0f}};  // no end of text: it runs for all 200 tokens
  auto generation = std::async(std::launch::async, [&] {
    return engine.complete("Stream while embedding", p, [&](const Piece&) {
      std::lock_guard lock(mutex);
      pieces.push_back(Clock::now());
      if (pieces.size() == 5) started.set_value();
      return true;
    });
  });
  ASSERT_EQ(started.get_future().wait_for(kBound), std::future_status::ready);
  std::vector<EmbeddingInput> inputs;
  for (int i = 0; i < 48; ++i) {
    inputs.emplace_back("an input to embed, number " + std::to_string(i) +
                        ", long enough to take a while");
  }
  const auto begin = Clock::now();
  const Embeddings e = engine.embed(inputs);
  const auto end = Clock::now();
  EXPECT_EQ(e.vectors.size(), 48u);
  const auto r = get_within(generation, "the generation");
  EXPECT_EQ(r.completion_tokens, 200);

  std::lock_guard lock(mutex);
  int during = 0;
  double gap_during = 0, gap_outside = 0;
  for (std::size_t i = 1; i < pieces.size(); ++i) {
    const double gap = std::chrono::duration<double, std::milli>(pieces[i] - pieces[i - 1]).count();
    const bool in = pieces[i] > begin && pieces[i] < end;
    during += in ? 1 : 0;
    (in ? gap_during : gap_outside) = std::max(in ? gap_during : gap_outside, gap);
  }
  // 48 inputs take 6 batches of 8, with a decode step between each two: 5 tokens at least, of
  // which a piece may hold back a byte that does not finish a character.
  EXPECT_GE(during, 3) << "generation stalled while embeddings were computed";
  std::cout << "embeddings of 48 inputs: "
            << std::chrono::duration<double, std::milli>(end - begin).count() << " ms, " << during
            << " tokens streamed meanwhile; longest token gap " << gap_during << " ms during, "
            << gap_outside << " ms outside\n";
}

// Admission comes before tokenizing: a full server refuses even a prompt it could not tokenize,
// and refuses it without tokenizing it.
TEST(EngineAdmission, AFullServerRefusesBeforeTokenizing) {
  Engine engine(options(/*parallel=*/1, /*ctx_size=*/64, /*queue_limit=*/0));
  const SamplingParams p = greedy(4);
  testing::BusySlot busy(engine, 4);

  // Over the context, or empty: refused as full, not as bad (which needs tokenizing).
  std::string too_long;
  for (int i = 0; i < 100; ++i) too_long += "word ";
  EXPECT_THROW(engine.complete(too_long, p), QueueFull);
  EXPECT_THROW(engine.embed({""}), QueueFull);
  const std::string huge(8 << 20, 'x');
  const auto t0 = Clock::now();
  EXPECT_THROW(engine.complete(huge, p), QueueFull);
  const auto refused_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  EXPECT_THROW(engine.complete_choices("two choices", p, 1), QueueFull);
  EXPECT_EQ(engine.stats().queued, 0);
  std::cout << "an 8 MiB prompt refused by a full server in " << refused_ms << " ms\n";

  EXPECT_EQ(busy.release().completion_tokens, 4);
  // With room, they are tokenized and refused for what they are.
  EXPECT_THROW(engine.complete(too_long, p), PromptTooLong);
  EXPECT_THROW(engine.embed({""}), InputError);
  EXPECT_EQ(engine.complete("Room again", p).completion_tokens, 4);
}

}  // namespace
}  // namespace tandem::inference
