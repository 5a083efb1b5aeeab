// Echo on the tiny model: the prompt's own tokens scored by the model (prompt logprobs), the
// way the trainer's distill job scores each label as the continuation of a prompt.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "inference/engine.h"
#include "tests/support/tiny_model.h"

namespace tandem::inference {
namespace {

using namespace std::chrono_literals;
constexpr auto kBound = 120s;  // generous: ASan builds and Wine are slow, a hang is not

SamplingParams scoring(int top_logprobs = 0, int max_tokens = 0) {
  SamplingParams p;
  p.temperature = 0;
  p.max_tokens = max_tokens;
  p.top_logprobs = top_logprobs;
  p.echo = true;
  return p;
}

std::string joined(const std::vector<Piece>& pieces) {
  std::string out;
  for (const auto& piece : pieces) out += piece.text;
  return out;
}

// A prompt of about `words` * 2 tokens, made of words that tokenize the same way at any cut.
std::string words(int count) {
  static const char* const kWords[] = {"alpha", "river", "stone", "cloud", "maple", "quiet"};
  std::string out = "Begin";
  for (int i = 0; i < count; ++i) out += std::string(" ") + kWords[i % 6] + "s";
  return out;
}

EngineOptions echo_options() {
  EngineOptions o;
  o.model = testing::tiny_model_path();
  o.parallel = 2;
  o.ctx_size = 512;
  o.threads = 1;  // llama.cpp's busy-waiting threads crawl when test processes share the cores
  return o;
}

class EngineEcho : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { engine_ = std::make_unique<Engine>(echo_options()); }
  static void TearDownTestSuite() { engine_.reset(); }

  // Every piece but the first carries a finite logprob <= 0 and `top` sorted alternatives.
  static void expect_scored(const CompletionResult& r, const std::string& prompt, std::size_t top) {
    ASSERT_EQ(r.prompt_pieces.size(), static_cast<std::size_t>(r.prompt_tokens));
    EXPECT_EQ(joined(r.prompt_pieces), prompt);
    EXPECT_TRUE(std::isnan(r.prompt_pieces[0].logprob));
    EXPECT_TRUE(r.prompt_pieces[0].top.empty());
    for (std::size_t i = 1; i < r.prompt_pieces.size(); ++i) {
      const Piece& piece = r.prompt_pieces[i];
      EXPECT_TRUE(std::isfinite(piece.logprob)) << "piece " << i;
      EXPECT_LE(piece.logprob, 0.0f) << "piece " << i;
      EXPECT_EQ(piece.tokens, 1);
      ASSERT_EQ(piece.top.size(), top) << "piece " << i;
      for (std::size_t k = 1; k < top; ++k) {
        EXPECT_GE(piece.top[k - 1].logprob, piece.top[k].logprob);
      }
      if (top > 0) {
        EXPECT_GE(piece.top[0].logprob, piece.logprob);  // the best is at least as likely
      }
    }
  }

  static std::unique_ptr<Engine> engine_;
};
std::unique_ptr<Engine> EngineEcho::engine_;

TEST_F(EngineEcho, ScoresEveryPromptTokenAndGeneratesNothingAtMaxTokensZero) {
  const std::string prompt = "The quick brown fox jumps";
  const auto before = engine_->stats();
  const auto r = engine_->complete(prompt, scoring(2));
  expect_scored(r, prompt, 2);
  EXPECT_GT(r.prompt_tokens, 4);
  EXPECT_EQ(r.prompt_pieces[0].text, "");     // llama-spm's BOS, added by the tokenizer
  EXPECT_EQ(r.prompt_pieces[1].text, "The");  // without the space SPM puts before it
  EXPECT_EQ(r.completion_tokens, 0);
  EXPECT_TRUE(r.text.empty());
  EXPECT_TRUE(r.pieces.empty());
  EXPECT_EQ(r.finish, FinishReason::length);
  const auto after = engine_->stats();
  EXPECT_EQ(after.prompt_tokens - before.prompt_tokens,
            static_cast<std::uint64_t>(r.prompt_tokens));
  EXPECT_EQ(after.generated_tokens, before.generated_tokens);
  EXPECT_EQ(after.busy_slots, 0);
}

TEST_F(EngineEcho, AnEmptyPromptIsItsBosAlone) {
  // One token, nothing before it to score it and no logits asked of the batch at all.
  const auto r = engine_->complete("", scoring());
  ASSERT_EQ(r.prompt_pieces.size(), 1u);
  EXPECT_EQ(r.prompt_pieces[0].text, "");
  EXPECT_TRUE(std::isnan(r.prompt_pieces[0].logprob));
  EXPECT_EQ(r.finish, FinishReason::length);
  EXPECT_EQ(engine_->stats().busy_slots, 0);
}

TEST_F(EngineEcho, SpecialTokensInThePromptKeepTheirText) {
  const std::string prompt = "Hi</s> there\nsecond line";
  const auto r = engine_->complete(prompt, scoring());
  expect_scored(r, prompt, 0);
  bool marker = false;
  for (const auto& piece : r.prompt_pieces) marker = marker || piece.text == "</s>";
  EXPECT_TRUE(marker) << "</s> is parsed as the model's end-of-sequence token";
}

TEST_F(EngineEcho, APromptTokensLogprobIsWhatGenerationReportsForIt) {
  // Generate one token greedily from P, then score P + that token: the same logits decide both.
  int compared = 0;
  for (const std::string prompt : {"Once upon a time", "The weather today", "Numbers: 1, 2,"}) {
    SamplingParams one;
    one.temperature = 0;
    one.max_tokens = 1;
    one.top_logprobs = 0;
    const auto generated = engine_->complete(prompt, one);
    if (generated.pieces.size() != 1 || generated.pieces[0].tokens != 1) continue;
    const Piece& next = generated.pieces[0];
    const auto scored = engine_->complete(prompt + next.text, scoring());
    // Only where the text tokenizes back to the same tokens (random weights pick odd tokens).
    if (scored.prompt_tokens != generated.prompt_tokens + 1) continue;
    ASSERT_FALSE(scored.prompt_pieces.empty());
    const Piece& last = scored.prompt_pieces.back();
    EXPECT_EQ(last.text, next.text) << prompt;
    EXPECT_NEAR(last.logprob, next.logprob, 1e-3) << prompt;
    ++compared;
  }
  EXPECT_GE(compared, 1) << "no prompt's greedy token tokenized back the same way";
}

TEST_F(EngineEcho, EchoAlsoGeneratesAndGenerationIsUnchanged) {
  SamplingParams plain;
  plain.temperature = 0;
  plain.max_tokens = 6;
  plain.top_logprobs = 1;
  const auto without = engine_->complete("Echo and continue", plain);
  const auto with = engine_->complete("Echo and continue", scoring(1, 6));
  expect_scored(with, "Echo and continue", 1);
  EXPECT_EQ(with.text, without.text);
  EXPECT_EQ(with.completion_tokens, 6);
  ASSERT_EQ(with.pieces.size(), without.pieces.size());
  for (std::size_t i = 0; i < with.pieces.size(); ++i) {
    EXPECT_NEAR(with.pieces[i].logprob, without.pieces[i].logprob, 1e-4) << i;
  }
  EXPECT_TRUE(without.prompt_pieces.empty());
}

TEST_F(EngineEcho, WithoutLogprobsThereIsNothingToScore) {
  SamplingParams p = scoring();
  p.top_logprobs = -1;
  const auto r = engine_->complete("No logprobs", p);
  EXPECT_TRUE(r.prompt_pieces.empty());
  EXPECT_EQ(r.completion_tokens, 0);
  EXPECT_GT(r.prompt_tokens, 1);
}

TEST_F(EngineEcho, ALongPromptIsScoredAcrossBatchesAsAShortOneIs) {
  // More prompt tokens than one batch scores (64 rows): they are spread over several decodes.
  const std::string prefix = words(60);
  const std::string full = prefix + " " + words(100).substr(6);
  const auto whole = engine_->complete(full, scoring(1));
  expect_scored(whole, full, 1);
  ASSERT_GT(whole.prompt_tokens, 3 * 64);
  // On an engine of its own: the shared one would take the prefix's scores from its cache.
  const auto part = Engine(echo_options()).complete(prefix, scoring(1));
  expect_scored(part, prefix, 1);
  ASSERT_GT(part.prompt_tokens, 64);
  ASSERT_LT(part.prompt_pieces.size(), whole.prompt_pieces.size());
  for (std::size_t i = 1; i < part.prompt_pieces.size(); ++i) {
    ASSERT_EQ(part.prompt_pieces[i].text, whole.prompt_pieces[i].text) << i;
    EXPECT_NEAR(part.prompt_pieces[i].logprob, whole.prompt_pieces[i].logprob, 1e-3) << i;
  }
}

TEST_F(EngineEcho, ConcurrentRequestsScoreAsTheyDoAlone) {
  // Both long: the second to start gets what is left of the batch's scoring rows, so its
  // prompt is cut into batches differently than when it runs alone.
  const std::string a = words(70), b = words(50);
  const auto alone_a = engine_->complete(a, scoring(0));
  const auto alone_b = engine_->complete(b, scoring(0, 8));
  // A fresh engine: the shared one would take most of both from its cache.
  Engine fresh(echo_options());
  auto run_a = std::async(std::launch::async, [&] { return fresh.complete(a, scoring(0)); });
  auto run_b = std::async(std::launch::async, [&] { return fresh.complete(b, scoring(0, 8)); });
  ASSERT_EQ(run_a.wait_for(kBound), std::future_status::ready);
  ASSERT_EQ(run_b.wait_for(kBound), std::future_status::ready);
  const auto together_a = run_a.get(), together_b = run_b.get();
  for (const auto& [alone, together] :
       {std::pair{&alone_a, &together_a}, {&alone_b, &together_b}}) {
    ASSERT_EQ(together->prompt_pieces.size(), alone->prompt_pieces.size());
    for (std::size_t i = 1; i < alone->prompt_pieces.size(); ++i) {
      EXPECT_NEAR(together->prompt_pieces[i].logprob, alone->prompt_pieces[i].logprob, 1e-3) << i;
    }
  }
  EXPECT_EQ(together_b.text, alone_b.text);
  EXPECT_EQ(fresh.stats().busy_slots, 0);
}

// How the trainer labels a text: the same prompt scored with each label as its end.
TEST(EngineEchoCache, AScoredPromptThatStartsAsTheLastOneScoresOnlyItsEnd) {
  Engine engine(echo_options());
  const std::string text = words(30) + " is the text, and its label is";
  const auto first = engine.complete(text + " positive", scoring(2));
  const auto before = engine.stats().prompt_tokens;
  const auto second = engine.complete(text + " negative", scoring(2));
  const auto decoded = engine.stats().prompt_tokens - before;
  ASSERT_GT(second.prompt_tokens, 40);
  EXPECT_LT(decoded, 10u) << "of " << second.prompt_tokens << " prompt tokens";

  // Every logprob and alternative as an engine that had nothing cached gives them.
  const auto expected = Engine(echo_options()).complete(text + " negative", scoring(2));
  ASSERT_EQ(second.prompt_pieces.size(), expected.prompt_pieces.size());
  EXPECT_EQ(joined(second.prompt_pieces), text + " negative");
  EXPECT_TRUE(std::isnan(second.prompt_pieces[0].logprob));
  for (std::size_t i = 1; i < expected.prompt_pieces.size(); ++i) {
    const Piece &got = second.prompt_pieces[i], &want = expected.prompt_pieces[i];
    EXPECT_NEAR(got.logprob, want.logprob, 1e-3) << "piece " << i;
    ASSERT_EQ(got.top.size(), 2u) << "piece " << i;
    for (std::size_t k = 0; k < 2; ++k) {
      EXPECT_EQ(got.top[k].token, want.top[k].token) << "piece " << i;
      EXPECT_NEAR(got.top[k].logprob, want.top[k].logprob, 1e-3) << "piece " << i;
    }
  }

  // Other alternatives asked for: the cached ones do not fit, the prompt is scored in full.
  const auto again = engine.stats().prompt_tokens;
  const auto other = engine.complete(text + " negative", scoring(3));
  EXPECT_EQ(engine.stats().prompt_tokens - again, static_cast<std::uint64_t>(other.prompt_tokens));
  // A generation on the slot keeps its scores for what it still shares.
  engine.complete(text + " neutral and more", scoring(-1, 4));
  const auto last = engine.stats().prompt_tokens;
  engine.complete(text + " positive", scoring(3));
  EXPECT_LT(engine.stats().prompt_tokens - last, 10u);
}

}  // namespace
}  // namespace tandem::inference
