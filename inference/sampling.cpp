#include "inference/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace tandem::inference {

SamplerPtr make_sampler(const SamplingParams& params) {
  SamplerPtr chain(llama_sampler_chain_init(llama_sampler_chain_default_params()));
  if (params.temperature <= 0.0f) {
    llama_sampler_chain_add(chain.get(), llama_sampler_init_greedy());
    return chain;
  }
  llama_sampler_chain_add(chain.get(), llama_sampler_init_top_p(params.top_p, 1));
  llama_sampler_chain_add(chain.get(), llama_sampler_init_temp(params.temperature));
  // LLAMA_DEFAULT_SEED asks llama.cpp for a fresh random seed.
  llama_sampler_chain_add(chain.get(),
                          llama_sampler_init_dist(params.seed.value_or(LLAMA_DEFAULT_SEED)));
  return chain;
}

TokenLogprobs token_logprobs(const float* logits, int n_vocab, llama_token chosen, int top_n) {
  const float* end = logits + n_vocab;
  const float max = *std::max_element(logits, end);
  double sum = 0;
  for (const float* l = logits; l != end; ++l) sum += std::exp(static_cast<double>(*l - max));
  const double log_z = static_cast<double>(max) + std::log(sum);
  auto logprob = [&](llama_token t) {
    return static_cast<float>(static_cast<double>(logits[t]) - log_z);
  };

  TokenLogprobs out;
  out.logprob = logprob(chosen);
  const int n = std::clamp(top_n, 0, std::min(kMaxTopLogprobs, n_vocab));
  if (n == 0) return out;
  std::vector<llama_token> ids(static_cast<std::size_t>(n_vocab));
  std::iota(ids.begin(), ids.end(), 0);
  // Ties go to the lower id, as greedy sampling picks the first maximum.
  std::partial_sort(ids.begin(), ids.begin() + n, ids.end(), [&](llama_token a, llama_token b) {
    return logits[a] != logits[b] ? logits[a] > logits[b] : a < b;
  });
  out.top.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) out.top.emplace_back(ids[i], logprob(ids[i]));
  return out;
}

}  // namespace tandem::inference
