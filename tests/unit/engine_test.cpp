// inference::Engine on the tiny random-weight model: real llama.cpp load, batching and sampling.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/files.h"
#include "inference/engine.h"
#include "tests/support/engine_calls.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tiny_model.h"

namespace tandem::inference {
namespace {

using namespace std::chrono_literals;
using testing::get_within;
using testing::greedy;

EngineOptions options(int parallel = 2, int ctx_size = 256, int queue_limit = 16) {
  return testing::engine_options(parallel, ctx_size, queue_limit);
}

class EngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { engine_ = std::make_unique<Engine>(options()); }
  static void TearDownTestSuite() { engine_.reset(); }
  static std::unique_ptr<Engine> engine_;
};
std::unique_ptr<Engine> EngineTest::engine_;

TEST_F(EngineTest, ReportsTheModelAndItsSlots) {
  EXPECT_EQ(engine_->model_id(), kTinyModelName);
  EXPECT_TRUE(engine_->is_test_model());
  const auto s = engine_->stats();
  EXPECT_EQ(s.slots, 2);
  EXPECT_EQ(s.busy_slots, 0);
  EXPECT_EQ(s.queued, 0);
}

TEST_F(EngineTest, GreedyIsDeterministic) {
  const auto a = engine_->complete("Once upon a time", greedy());
  const auto b = engine_->complete("Once upon a time", greedy());
  EXPECT_FALSE(a.text.empty());
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.completion_tokens, b.completion_tokens);
  EXPECT_GT(a.prompt_tokens, 3);
}

TEST_F(EngineTest, TheSameSeedGivesTheSameText) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.max_tokens = 12;
  p.seed = 1234;
  const auto a = engine_->complete("The weather today", p);
  const auto b = engine_->complete("The weather today", p);
  EXPECT_EQ(a.text, b.text);
  p.seed = 4321;  // near-uniform random weights: another seed all but surely differs
  EXPECT_NE(engine_->complete("The weather today", p).text, a.text);
}

TEST_F(EngineTest, MaxTokensIsRespectedExactly) {
  const auto r = engine_->complete("Count with me", greedy(5));
  EXPECT_EQ(r.completion_tokens, 5);
  EXPECT_EQ(r.finish, FinishReason::length);
  const auto none = engine_->complete("Count with me", greedy(0));
  EXPECT_EQ(none.completion_tokens, 0);
  EXPECT_TRUE(none.text.empty());
}

TEST_F(EngineTest, StopStringEndsTheTextBeforeIt) {
  SamplingParams p = greedy(24);
  p.top_logprobs = 0;  // to see the pieces
  const auto full = engine_->complete("A stop string test", p);
  ASSERT_GE(full.pieces.size(), 4u) << full.text;
  // A stop string straddling two pieces (tokens): the end of one and the start of the next.
  const std::string& left = full.pieces[2].text;
  const std::string& right = full.pieces[3].text;
  const std::string stop = left.substr(left.size() - 1) + right.substr(0, 1);
  ASSERT_EQ(stop.size(), 2u);
  const std::string expected = full.text.substr(0, full.text.find(stop));

  p.stop = {stop};
  std::string streamed;
  const auto cut = engine_->complete("A stop string test", p, [&](const Piece& piece) {
    streamed += piece.text;
    return true;
  });
  EXPECT_EQ(cut.text, expected);
  EXPECT_EQ(streamed, expected);
  EXPECT_EQ(cut.finish, FinishReason::stop);
  EXPECT_EQ(cut.text.find(stop), std::string::npos);
}

TEST_F(EngineTest, LogprobsComeFromTheModelAndAreSorted) {
  SamplingParams p = greedy(10);
  p.top_logprobs = 3;
  const auto r = engine_->complete("Probabilities please", p);
  ASSERT_FALSE(r.pieces.empty());
  std::string joined;
  for (const auto& piece : r.pieces) {
    joined += piece.text;
    EXPECT_LE(piece.logprob, 0.0f);
    ASSERT_EQ(piece.top.size(), 3u);
    for (std::size_t i = 0; i < piece.top.size(); ++i) {
      EXPECT_LE(piece.top[i].logprob, 0.0f);
      if (i > 0) {
        EXPECT_GE(piece.top[i - 1].logprob, piece.top[i].logprob);
      }
    }
    // Greedy takes the best token, so a one-token piece is the top alternative itself.
    if (piece.tokens == 1) {
      EXPECT_FLOAT_EQ(piece.logprob, piece.top[0].logprob);
    }
  }
  EXPECT_EQ(joined, r.text);

  p.top_logprobs = 99;
  const auto many = engine_->complete("Probabilities please", p);
  ASSERT_FALSE(many.pieces.empty());
  EXPECT_EQ(many.pieces[0].top.size(), 20u);  // capped
  EXPECT_TRUE(engine_->complete("Probabilities please", greedy(4)).pieces.empty());
}

TEST_F(EngineTest, StreamedPiecesMakeTheFinalText) {
  std::string streamed;
  int calls = 0;
  const auto r = engine_->complete("Streaming works", greedy(20), [&](const Piece& piece) {
    streamed += piece.text;
    ++calls;
    return true;
  });
  EXPECT_EQ(streamed, r.text);
  EXPECT_GT(calls, 1);
}

TEST_F(EngineTest, ACallbackCancelsAndTheEngineServesOn) {
  std::vector<std::string> seen;
  const auto r = engine_->complete("Cancel me", greedy(30), [&](const Piece& piece) {
    seen.push_back(piece.text);
    return seen.size() < 2;
  });
  EXPECT_EQ(r.finish, FinishReason::cancelled);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(r.text, seen[0] + seen[1]);
  EXPECT_EQ(engine_->stats().busy_slots, 0);

  const auto next = engine_->complete("Cancel me", greedy(4));
  EXPECT_EQ(next.finish, FinishReason::length);
  EXPECT_EQ(next.completion_tokens, 4);
}

TEST_F(EngineTest, AnExceptionFromTheCallbackReachesTheCaller) {
  EXPECT_THROW(engine_->complete("Throw", greedy(8),
                                 [](const Piece&) -> bool { throw std::logic_error("client"); }),
               std::logic_error);
  EXPECT_EQ(engine_->complete("Throw", greedy(3)).completion_tokens, 3);
}

TEST_F(EngineTest, BatchingDoesNotChangeGreedyOutput) {
  const std::vector<std::string> prompts = {"First prompt here", "Second, rather longer prompt",
                                            "Third", "The fourth and last prompt of them"};
  std::vector<std::string> serial;
  for (const auto& prompt : prompts) serial.push_back(engine_->complete(prompt, greedy(24)).text);

  const auto before = engine_->stats();
  std::vector<std::future<CompletionResult>> running;
  for (const auto& prompt : prompts) {
    running.push_back(std::async(std::launch::async,
                                 [&, prompt] { return engine_->complete(prompt, greedy(24)); }));
  }
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    const auto r = get_within(running[i], "a concurrent request");
    EXPECT_EQ(r.text, serial[i]) << "prompt " << i;
    EXPECT_EQ(r.finish, FinishReason::length);
  }
  const auto after = engine_->stats();
  EXPECT_EQ(after.generated_tokens - before.generated_tokens, 4u * 24u);
  EXPECT_GT(after.prompt_tokens, before.prompt_tokens);
  EXPECT_EQ(after.busy_slots, 0);
  EXPECT_EQ(after.queued, 0);
}

TEST_F(EngineTest, ALongPromptIsRefusedWithBothNumbers) {
  std::string prompt;
  for (int i = 0; i < 300; ++i) prompt += " word";
  try {
    engine_->complete(prompt, greedy());
    FAIL() << "expected PromptTooLong";
  } catch (const PromptTooLong& e) {
    const std::string what = e.what();
    std::smatch m;
    ASSERT_TRUE(std::regex_search(what, m, std::regex("prompt is (\\d+) tokens"))) << what;
    EXPECT_GT(std::stoi(m[1].str()), 300) << what;           // 300 words and BOS
    EXPECT_NE(what.find("255"), std::string::npos) << what;  // ctx_size 256 - 1
  }
}

TEST_F(EngineTest, TheChatTemplateCarriesTheMessages) {
  const std::string text =
      engine_
          ->apply_chat(
              {{"system", "You are terse."}, {"user", "Say hello."}, {"assistant", "Hello."}}, {})
          .prompt;
  EXPECT_NE(text.find("You are terse."), std::string::npos) << text;
  EXPECT_NE(text.find("Say hello."), std::string::npos) << text;
  EXPECT_LT(text.find("You are terse."), text.find("Say hello."));
  // The tiny model carries ChatML; the prompt ends by opening the assistant's turn.
  EXPECT_EQ(text.substr(text.size() - 22), "<|im_start|>assistant\n");
}

TEST(Engine, QueueFullWhenEverySlotAndTheQueueAreTaken) {
  Engine engine(options(/*parallel=*/1, /*ctx_size=*/128, /*queue_limit=*/0));
  testing::BusySlot busy(engine, 4);

  EXPECT_THROW(engine.complete("No room", greedy(4)), QueueFull);
  const auto s = engine.stats();
  EXPECT_EQ(s.busy_slots, 1);
  EXPECT_EQ(s.queued, 0);

  const auto r = busy.release();
  EXPECT_EQ(r.finish, FinishReason::length);
  EXPECT_EQ(engine.complete("Room again", greedy(2)).completion_tokens, 2);
}

// Prompt tokens decoded for one request: what stats() counted while it ran.
std::uint64_t decoded_prompt(Engine& engine, const std::string& prompt, CompletionResult* out) {
  const auto before = engine.stats().prompt_tokens;
  *out = engine.complete(prompt, greedy(8));
  return engine.stats().prompt_tokens - before;
}

TEST(Engine, APromptThatGoesOnFromTheLastOneDecodesOnlyTheNewPart) {
  Engine engine(options(/*parallel=*/2));
  const std::string conversation = "The keeper climbed the stairs of the old lighthouse";
  CompletionResult first, second;
  const auto full = decoded_prompt(engine, conversation, &first);
  EXPECT_EQ(full, static_cast<std::uint64_t>(first.prompt_tokens));

  const std::string more = conversation + first.text + " and then he";
  const auto decoded = decoded_prompt(engine, more, &second);
  ASSERT_GT(second.prompt_tokens, first.prompt_tokens);
  // At least most of the shared start came from the cache (the tokenizer may join the last
  // token of the old text with the new one differently).
  EXPECT_LE(decoded + full / 2, static_cast<std::uint64_t>(second.prompt_tokens))
      << "decoded " << decoded << " of " << second.prompt_tokens << " prompt tokens";
  EXPECT_GE(decoded, 1u);

  // The same text as a fresh engine that had nothing cached.
  Engine fresh(options(/*parallel=*/1));
  CompletionResult expected;
  const auto decoded_fresh = decoded_prompt(fresh, more, &expected);
  EXPECT_EQ(decoded_fresh, static_cast<std::uint64_t>(expected.prompt_tokens));
  EXPECT_EQ(second.text, expected.text);
  EXPECT_EQ(second.prompt_tokens, expected.prompt_tokens);
}

TEST(Engine, AnInstructionSharedByRequestsIsDecodedOnce) {
  Engine engine(options(/*parallel=*/2));
  const std::string instruction =
      "Answer in one word whether the following sentence is about the sea or about the land: ";
  CompletionResult first, second;
  const auto full = decoded_prompt(engine, instruction + "the waves were high", &first);
  const auto decoded = decoded_prompt(engine, instruction + "the hills were green", &second);
  EXPECT_LE(decoded + full / 2, static_cast<std::uint64_t>(second.prompt_tokens))
      << "decoded " << decoded << " of " << second.prompt_tokens << " prompt tokens";
}

TEST(Engine, AnUnrelatedRequestDoesNotEvictTheLastConversation) {
  Engine engine(options(/*parallel=*/2));
  const std::string conversation = "A message in a bottle washed up on the cold grey shore";
  CompletionResult r;
  decoded_prompt(engine, conversation, &r);
  decoded_prompt(engine, "Something else entirely, about mountains", &r);
  // The unrelated request took the other slot: the conversation's cache is still there.
  const auto decoded = decoded_prompt(engine, conversation + " that morning", &r);
  EXPECT_LT(decoded, static_cast<std::uint64_t>(r.prompt_tokens) / 2) << r.prompt_tokens;
}

TEST(Engine, AfterShutdownRequestsAreRefused) {
  Engine engine(options(1, 64));
  engine.shutdown();
  try {
    engine.complete("Anyone there?", greedy());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "server is stopping");
  }
}

TEST(Engine, ReportsLoadProgress) {
  std::vector<float> seen;
  Engine engine(options(1, 64), [&](float p) { seen.push_back(p); });
  ASSERT_FALSE(seen.empty());
  EXPECT_FLOAT_EQ(seen.back(), 1.0f);
  for (std::size_t i = 1; i < seen.size(); ++i) EXPECT_GE(seen[i], seen[i - 1]);
}

TEST(Engine, AMissingOrInvalidModelNamesTheFile) {
  testing::TempDir dir;
  auto o = options(1, 64);
  o.model = dir / "absent.gguf";
  try {
    Engine engine(o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("absent.gguf"), std::string::npos) << e.what();
  }
  o.model = dir / "garbage.gguf";
  write_file_atomically(o.model, "this is not a GGUF file");
  try {
    Engine engine(o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("garbage.gguf"), std::string::npos) << e.what();
  }
}

TEST(Engine, RejectsImpossibleOptions) {
  auto o = options(0, 64);
  EXPECT_THROW(Engine{o}, Error);
  o = options(1, 1);
  EXPECT_THROW(Engine{o}, Error);
}

}  // namespace
}  // namespace tandem::inference
