#include "inference/ram_cache.h"

#include "inference/prompt_cache.h"

namespace tandem::inference {

void RamCache::put(SavedState saved) {
  if (saved.tokens.empty() || saved.state.size() > limit_) return;
  std::lock_guard lock(mutex_);
  for (auto it = states_.begin(); it != states_.end();) {
    if (shared_start(it->tokens, saved.tokens) == it->tokens.size()) {
      bytes_ -= it->state.size();
      it = states_.erase(it);
    } else {
      ++it;
    }
  }
  while (!states_.empty() && bytes_ + saved.state.size() > limit_) {
    bytes_ -= states_.back().state.size();
    states_.pop_back();
  }
  bytes_ += saved.state.size();
  states_.push_front(std::move(saved));
}

std::optional<SavedState> RamCache::take(const std::vector<Token>& prompt,
                                         std::size_t better_than) {
  std::lock_guard lock(mutex_);
  auto best = states_.end();
  std::size_t best_shared = 0;
  for (auto it = states_.begin(); it != states_.end(); ++it) {
    const std::size_t shared = shared_start(it->tokens, prompt);
    if (shared > best_shared) {
      best = it;
      best_shared = shared;
    }
  }
  if (best == states_.end() || best_shared <= better_than || best_shared * 2 < prompt.size()) {
    if (better_than * 2 < prompt.size()) ++misses_;  // neither its slot nor RAM had its start
    return std::nullopt;
  }
  ++hits_;
  SavedState taken = std::move(*best);
  bytes_ -= taken.state.size();
  states_.erase(best);
  return taken;
}

RamCache::Stats RamCache::stats() const {
  std::lock_guard lock(mutex_);
  return {hits_, misses_, bytes_, states_.size()};
}

}  // namespace tandem::inference
