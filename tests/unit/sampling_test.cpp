// The sampler options on the real tiny model: each changes what is generated as it promises, and
// a token id outside the vocabulary is refused before the request is queued.
#include <gtest/gtest.h>

#include <llama.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/llama/llama_backend.h"
#include "inference/engine.h"
#include "tests/support/tiny_model.h"

namespace tandem::inference {
namespace {

constexpr const char* kPrompt = "Once upon a time";

struct ModelFree {
  void operator()(llama_model* m) const { llama_model_free(m); }
};

// The tiny model's vocabulary, to name token ids the way a client's logit_bias does.
class Vocab {
 public:
  Vocab() {
    llama::ensure_llama_backend();
    auto params = llama_model_default_params();
    params.vocab_only = true;
    model_.reset(llama_model_load_from_file(testing::tiny_model_path().string().c_str(), params));
    if (!model_) throw std::runtime_error("cannot load the tiny model's vocabulary");
    vocab_ = llama_model_get_vocab(model_.get());
  }
  int size() const { return llama_vocab_n_tokens(vocab_); }
  std::string piece(llama_token t) const {
    char buf[256];
    const int n = llama_token_to_piece(vocab_, t, buf, sizeof buf, 0, false);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  }
  // Every id whose text is `text`: to ban a token, all its spellings must go.
  std::vector<llama_token> ids_of(const std::string& text) const {
    std::vector<llama_token> out;
    for (llama_token t = 0; t < size(); ++t) {
      if (piece(t) == text) out.push_back(t);
    }
    return out;
  }

 private:
  std::unique_ptr<llama_model, ModelFree> model_;
  const llama_vocab* vocab_ = nullptr;
};

SamplingParams greedy(int max_tokens) {
  SamplingParams p;
  p.temperature = 0;
  p.max_tokens = max_tokens;
  return p;
}

class SamplingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    EngineOptions o;
    o.model = testing::tiny_model_path();
    o.parallel = 1;
    o.ctx_size = 256;
    o.threads = 1;
    engine_ = std::make_unique<Engine>(o);
    vocab_ = std::make_unique<Vocab>();
  }
  static void TearDownTestSuite() {
    engine_.reset();
    vocab_.reset();
  }
  static std::unique_ptr<Engine> engine_;
  static std::unique_ptr<Vocab> vocab_;
};
std::unique_ptr<Engine> SamplingTest::engine_;
std::unique_ptr<Vocab> SamplingTest::vocab_;

TEST_F(SamplingTest, APositiveLogitBiasForcesItsToken) {
  const llama_token forced = 1000;
  const std::string piece = vocab_->piece(forced);
  ASSERT_FALSE(piece.empty());
  auto p = greedy(4);
  p.logit_bias = {{forced, 100.0f}};
  const auto r = engine_->complete(kPrompt, p);
  EXPECT_EQ(r.text, piece + piece + piece + piece);
}

TEST_F(SamplingTest, ANegativeLogitBiasBansTheGreedyToken) {
  const auto first = engine_->complete(kPrompt, greedy(1)).text;
  const auto ids = vocab_->ids_of(first);
  ASSERT_FALSE(ids.empty()) << "no token spells '" << first << "'";
  auto p = greedy(1);
  for (llama_token t : ids) p.logit_bias.emplace_back(t, -100.0f);
  EXPECT_NE(engine_->complete(kPrompt, p).text, first);
}

TEST_F(SamplingTest, TopKOfOneIsGreedyWhateverTheSeed) {
  const auto expected = engine_->complete(kPrompt, greedy(12)).text;
  for (std::uint32_t seed : {1u, 2u, 3u}) {
    SamplingParams p;
    p.max_tokens = 12;
    p.temperature = 1.5f;
    p.top_k = 1;
    p.seed = seed;
    EXPECT_EQ(engine_->complete(kPrompt, p).text, expected) << "seed " << seed;
  }
}

TEST_F(SamplingTest, AStrongPresencePenaltyRepeatsNoToken) {
  // Greedy text from random weights loops; a presence penalty of 100 per seen token (llama.cpp
  // accepts any finite value; the API caps it at 2) leaves every generated token distinct.
  const int n = 24;
  std::vector<std::string> plain;
  engine_->complete(kPrompt, greedy(n), [&](const Piece& piece) {
    plain.push_back(piece.text);
    return true;
  });
  ASSERT_LT(std::set<std::string>(plain.begin(), plain.end()).size(), plain.size())
      << "the greedy text repeats no token: this model cannot show the penalty";
  auto p = greedy(n);
  p.presence_penalty = 100.0f;
  p.repeat_last_n = -1;
  std::vector<std::string> penalised;
  engine_->complete(kPrompt, p, [&](const Piece& piece) {
    penalised.push_back(piece.text);
    return true;
  });
  EXPECT_EQ(std::set<std::string>(penalised.begin(), penalised.end()).size(), penalised.size());
}

TEST_F(SamplingTest, ALogitBiasOutsideTheVocabularyIsRefusedByField) {
  auto p = greedy(1);
  p.logit_bias = {{vocab_->size(), 1.0f}};
  try {
    engine_->complete(kPrompt, p);
    FAIL() << "accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "logit_bias");
    EXPECT_NE(std::string(e.what()).find(std::to_string(vocab_->size())), std::string::npos);
  }
  EXPECT_EQ(engine_->stats().busy_slots, 0);
}

}  // namespace
}  // namespace tandem::inference
