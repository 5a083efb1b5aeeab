#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <vector>

#include <llama.h>

#include "common/llama/llama_backend.h"
#include "tests/support/tiny_model.h"

namespace tandem {
namespace {

struct ModelFree {
  void operator()(llama_model* m) const { llama_model_free(m); }
};
struct ContextFree {
  void operator()(llama_context* c) const { llama_free(c); }
};
struct SamplerFree {
  void operator()(llama_sampler* s) const { llama_sampler_free(s); }
};

TEST(TinyModel, IsMadeQuicklyAndIsSmall) {
  testing::TempDir dir;
  auto start = std::chrono::steady_clock::now();
  inference::make_tiny_model(TANDEM_TEST_VOCAB, dir / "m.gguf");
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
  auto bytes = std::filesystem::file_size(dir / "m.gguf");
  std::printf("tiny model: %.1f MB in %.0f ms\n", static_cast<double>(bytes) / 1e6, ms.count());
  EXPECT_GT(bytes, 1'000'000u);
  EXPECT_LT(bytes, 40'000'000u);
}

TEST(TinyModel, LoadsTokenizesAndGenerates) {
  llama::ensure_llama_backend();
  llama_model_params mp = llama_model_default_params();
  std::unique_ptr<llama_model, ModelFree> model(
      llama_model_load_from_file(testing::tiny_model_path().string().c_str(), mp));
  ASSERT_TRUE(model);
  const llama_vocab* vocab = llama_model_get_vocab(model.get());
  const int n_vocab = llama_vocab_n_tokens(vocab);
  EXPECT_EQ(n_vocab, 32000);  // the llama-spm vocab

  char name[64] = {};
  llama_model_meta_val_str(model.get(), "general.name", name, sizeof(name));
  EXPECT_STREQ(name, inference::kTinyModelName);
  EXPECT_NE(llama_model_chat_template(model.get(), nullptr), nullptr);

  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = 256;
  cp.n_batch = 256;
  cp.n_threads = cp.n_threads_batch = llama::effective_threads(0);
  std::unique_ptr<llama_context, ContextFree> ctx(llama_init_from_model(model.get(), cp));
  ASSERT_TRUE(ctx);

  const std::string prompt = "Hello from Tandem";
  std::vector<llama_token> tokens(64);
  int n = llama_tokenize(vocab, prompt.c_str(), static_cast<int>(prompt.size()), tokens.data(),
                         static_cast<int>(tokens.size()), true, false);
  ASSERT_GT(n, 2);
  tokens.resize(static_cast<std::size_t>(n));

  std::unique_ptr<llama_sampler, SamplerFree> sampler(llama_sampler_init_greedy());
  llama_batch batch = llama_batch_get_one(tokens.data(), n);
  std::vector<llama_token> generated;
  for (int i = 0; i < 8; ++i) {
    ASSERT_EQ(llama_decode(ctx.get(), batch), 0);
    const float* logits = llama_get_logits_ith(ctx.get(), -1);
    ASSERT_TRUE(std::isfinite(logits[0]));
    llama_token next = llama_sampler_sample(sampler.get(), ctx.get(), -1);
    ASSERT_GE(next, 0);
    ASSERT_LT(next, n_vocab);
    generated.push_back(next);
    batch = llama_batch_get_one(&generated.back(), 1);
  }
  EXPECT_EQ(generated.size(), 8u);
}

TEST(Threads, NeverAboveTheCoreCount) {
  EXPECT_EQ(llama::effective_threads(0, 2), 2);
  EXPECT_EQ(llama::effective_threads(4, 2), 2);
  EXPECT_EQ(llama::effective_threads(1, 2), 1);
  EXPECT_EQ(llama::effective_threads(-3, 0), 1);
}

}  // namespace
}  // namespace tandem
