#include "inference/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "common/error.h"

namespace tandem::inference {

namespace {

bool penalises(const SamplingParams& p) {
  return p.repeat_last_n != 0 &&
         (p.repeat_penalty != 1.0f || p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f);
}

}  // namespace

void check_sampling(const SamplingParams& params, int n_vocab) {
  for (const auto& [token, bias] : params.logit_bias) {
    if (token < 0 || token >= n_vocab) {
      throw InputError("logit_bias", "token id " + std::to_string(token) +
                                         " is not in the model's vocabulary (0 to " +
                                         std::to_string(n_vocab - 1) + ")");
    }
  }
}

SamplerPtr make_sampler(const SamplingParams& params, int n_vocab,
                        const std::vector<llama_token>& prompt, const llama_sampler* grammar) {
  SamplerPtr chain(llama_sampler_chain_init(llama_sampler_chain_default_params()));
  auto add = [&](llama_sampler* s) { llama_sampler_chain_add(chain.get(), s); };
  if (!params.logit_bias.empty()) {
    std::vector<llama_logit_bias> bias;
    bias.reserve(params.logit_bias.size());
    for (const auto& [token, value] : params.logit_bias) bias.push_back({token, value});
    add(llama_sampler_init_logit_bias(n_vocab, static_cast<std::int32_t>(bias.size()),
                                      bias.data()));
  }
  if (penalises(params)) {
    const int window = params.repeat_last_n < 0
                           ? static_cast<int>(prompt.size()) + params.max_tokens
                           : params.repeat_last_n;
    add(llama_sampler_init_penalties(n_vocab, window, params.repeat_penalty,
                                     params.frequency_penalty, params.presence_penalty));
    const std::size_t from = prompt.size() > static_cast<std::size_t>(window)
                                 ? prompt.size() - static_cast<std::size_t>(window)
                                 : 0;
    for (std::size_t i = from; i < prompt.size(); ++i) llama_sampler_accept(chain.get(), prompt[i]);
  }
  // After the penalties took the prompt: the grammar has its own start (its prefill).
  if (grammar) add(llama_sampler_clone(grammar));
  if (params.temperature <= 0.0f) {
    add(llama_sampler_init_greedy());
    return chain;
  }
  if (params.top_k > 0) add(llama_sampler_init_top_k(params.top_k));
  add(llama_sampler_init_top_p(params.top_p, 1));
  if (params.min_p > 0.0f) add(llama_sampler_init_min_p(params.min_p, 1));
  add(llama_sampler_init_temp(params.temperature));
  // LLAMA_DEFAULT_SEED asks llama.cpp for a fresh random seed.
  add(llama_sampler_init_dist(params.seed.value_or(LLAMA_DEFAULT_SEED)));
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
