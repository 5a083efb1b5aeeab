// Per-request token choice and log-probabilities, on top of llama.cpp's samplers.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include <llama.h>

#include "inference/completion.h"

namespace tandem::inference {

struct SamplerFree {
  void operator()(llama_sampler* s) const { llama_sampler_free(s); }
};
using SamplerPtr = std::unique_ptr<llama_sampler, SamplerFree>;

// InputError naming the field when a request's sampling cannot apply to this model (a
// logit_bias token id outside its vocabulary). Checked before the request is queued.
void check_sampling(const SamplingParams& params, int n_vocab);

// logit_bias and the penalties first (they hold for greedy choice too), then temperature 0:
// greedy; otherwise top-k, top-p, min-p, temperature and a draw seeded by params.seed (a random
// seed when unset). Samplers at their neutral value are left out. With penalties, the last
// `repeat_last_n` tokens of `prompt` are what they count from the start. A `grammar` sampler
// (see grammar.h) is copied in before the choice, so only what it allows can be drawn.
SamplerPtr make_sampler(const SamplingParams& params, int n_vocab,
                        const std::vector<llama_token>& prompt,
                        const llama_sampler* grammar = nullptr);

inline constexpr int kMaxTopLogprobs = 20;

struct TokenLogprobs {
  float logprob = 0;                               // of the chosen token
  std::vector<std::pair<llama_token, float>> top;  // best first
};

// Log-softmax of the raw logits (what the model says, before any sampler reshapes it): the
// chosen token's value and the `top_n` best alternatives (at most kMaxTopLogprobs).
TokenLogprobs token_logprobs(const float* logits, int n_vocab, llama_token chosen, int top_n);

}  // namespace tandem::inference
