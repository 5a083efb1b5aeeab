// One slot's request life without a model: where its prompt resumes, what it keeps when it ends.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "inference/slot.h"

namespace tandem::inference {
namespace {

constexpr int kVocab = 32;  // no logit_bias or penalties here: the size is not looked at

const PieceCallback kNoCallback;

// A scored prompt (echo with logprobs, `top` alternatives) of `tokens`, its logprobs unset.
std::unique_ptr<Request> scored(std::vector<Token> tokens, int top) {
  auto r = std::make_unique<Request>();
  r->prompt = std::move(tokens);
  for (std::size_t i = 0; i < r->prompt.size(); ++i) {
    r->prompt_pieces.push_back(
        {"w" + std::to_string(i), std::numeric_limits<float>::quiet_NaN(), {}, 1});
  }
  r->params.echo = true;
  r->params.top_logprobs = top;
  r->params.max_tokens = 0;
  r->on_piece = &kNoCallback;
  return r;
}

// The slot as the engine leaves it once the whole prompt was decoded and scored.
void decode_whole_prompt(Slot& slot) {
  auto& r = *slot.request;
  for (std::size_t i = slot.prompt_fed; i < r.prompt.size(); ++i) {
    slot.cache.tokens.push_back(r.prompt[i]);
    if (i > 0) r.prompt_pieces[i].logprob = -static_cast<float>(i);
  }
  slot.prompt_fed = r.prompt.size();
}

TEST(Slot, AScoredPromptScoredInFullIsKeptForTheNextOneFromTheSameStart) {
  Slot slot;
  slot.start(scored({1, 2, 3, 4}, 2), kVocab);
  slot.resume_from(0);
  decode_whole_prompt(slot);
  const auto pieces = slot.take_scored_prompt();
  ASSERT_EQ(pieces.size(), 4u);
  EXPECT_EQ(pieces[3].logprob, -3.0f);
  EXPECT_NE(slot.release(), nullptr);
  EXPECT_FALSE(slot.request);
  EXPECT_FALSE(slot.generation);
  EXPECT_EQ(slot.cache.tokens, (std::vector<Token>{1, 2, 3, 4}));  // the cache stays
  EXPECT_EQ(slot.cache.scores.size(), 4u);
  EXPECT_EQ(slot.cache.scores_top, 2);

  // The same text with another label: three tokens kept, logprobs from the cache.
  slot.start(scored({1, 2, 3, 4, 9}, 2), kVocab);
  const std::size_t keep = slot.cache.reusable(slot.request->prompt, 2, false);
  ASSERT_EQ(keep, 3u);
  slot.resume_from(keep);
  EXPECT_EQ(slot.prompt_fed, 3u);
  EXPECT_EQ(slot.cache.tokens, (std::vector<Token>{1, 2, 3}));
  const auto& fresh = slot.request->prompt_pieces;
  EXPECT_EQ(fresh[2].logprob, -2.0f);
  // Token 3 is decoded again, but the kept token 2's logits scored it: from the cache too.
  EXPECT_EQ(fresh[3].logprob, -3.0f);
  EXPECT_TRUE(std::isnan(fresh[4].logprob));  // the new label, scored by the next batch
  EXPECT_EQ(fresh[4].text, "w4");             // the texts are the new prompt's
}

TEST(Slot, APromptNotScoredInFullLeavesNoScores) {
  Slot slot;
  slot.start(scored({1, 2, 3, 4}, 1), kVocab);
  slot.resume_from(0);
  slot.prompt_fed = 2;  // cancelled mid-prompt
  EXPECT_TRUE(slot.take_scored_prompt().empty());
  decode_whole_prompt(slot);
  slot.echo_rows.emplace_back(0, 3);  // the last rows not read yet
  EXPECT_TRUE(slot.take_scored_prompt().empty());
  EXPECT_TRUE(slot.cache.scores.empty());
  slot.release();
}

TEST(Slot, ResumingFromNothingForgetsTheCache) {
  Slot slot;
  slot.start(scored({1, 2, 3}, 0), kVocab);
  decode_whole_prompt(slot);
  slot.take_scored_prompt();
  slot.release();
  ASSERT_FALSE(slot.cache.scores.empty());
  slot.start(scored({1, 2, 3}, 0), kVocab);
  slot.resume_from(0);
  EXPECT_EQ(slot.prompt_fed, 0u);
  EXPECT_TRUE(slot.cache.tokens.empty());
  EXPECT_TRUE(slot.cache.scores.empty());
}

}  // namespace
}  // namespace tandem::inference
