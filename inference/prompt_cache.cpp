#include "inference/prompt_cache.h"

#include <algorithm>

namespace tandem::inference {

std::size_t shared_start(const std::vector<Token>& a, const std::vector<Token>& b) {
  const std::size_t n = std::min(a.size(), b.size());
  return static_cast<std::size_t>(std::mismatch(a.begin(), a.begin() + n, b.begin()).first -
                                  a.begin());
}

std::size_t SlotCache::reusable(const std::vector<Token>& prompt, std::optional<int> score_top,
                                bool lost_start) const {
  if (prompt.empty() || lost_start) return 0;
  // The last prompt token is always decoded again, for the logits to sample from. A scored
  // prompt needs the logprob of every token: the kept ones take theirs from `scores`, and so
  // does the first one decoded again (the token before it scored it), so that one must be
  // shared and scored too.
  const std::size_t shared = shared_start(tokens, prompt);
  std::size_t keep = std::min(shared, prompt.size() - 1);
  if (score_top) {
    const std::size_t scored = std::min(shared, scores.size());
    const bool fits = scores_top == *score_top && scored > 0;
    keep = fits ? std::min(keep, scored - 1) : 0;
  }
  return keep;
}

void SlotCache::keep(std::size_t n, std::vector<Piece>& pieces) {
  if (!pieces.empty() && !scores.empty()) {
    const std::size_t last = std::min({n, scores.size() - 1, pieces.size() - 1});
    for (std::size_t i = 1; i <= last; ++i) {
      pieces[i].logprob = scores[i].logprob;
      pieces[i].top = scores[i].top;
    }
  }
  tokens.resize(std::min(tokens.size(), n));
  scores.resize(std::min(scores.size(), n));
}

void SlotCache::clear() {
  tokens.clear();
  scores.clear();
}

std::optional<std::size_t> choose_slot(std::span<const SlotCache* const> caches,
                                       const std::vector<Token>& prompt) {
  std::optional<std::size_t> best;
  std::size_t best_shared = 0;
  for (std::size_t i = 0; i < caches.size(); ++i) {
    const SlotCache* cache = caches[i];
    if (!cache) continue;
    std::size_t shared = shared_start(cache->tokens, prompt);
    if (shared * 2 < std::min(cache->tokens.size(), prompt.size())) shared = 0;
    if (!best || shared > best_shared ||
        (shared == best_shared && cache->last_used < caches[*best]->last_used)) {
      best = i;
      best_shared = shared;
    }
  }
  return best;
}

}  // namespace tandem::inference
