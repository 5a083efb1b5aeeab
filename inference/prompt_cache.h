// Which slot a prompt goes to and how much of that slot's KV cache it reuses. A slot keeps its
// cache after a request, so a prompt that starts as the slot's last one (a conversation's next
// turn, a shared instruction, a text scored with another label) decodes only the rest. Rules over
// token vectors only; the engine applies them to llama.cpp's memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "inference/completion.h"
#include "inference/request.h"

namespace tandem::inference {

// How many tokens `a` and `b` share from their start.
std::size_t shared_start(const std::vector<Token>& a, const std::vector<Token>& b);

// What one slot's KV cache holds.
struct SlotCache {
  std::vector<Token> tokens;  // in the sequence's cache, in order
  // The logprobs of tokens[i] given tokens[0..i), when a scored prompt put them there: a prompt
  // scored again from the same start (the trainer scores one text with each label) reuses them.
  std::vector<Piece> scores;
  int scores_top = -1;          // how many alternatives each of `scores` holds
  std::uint64_t last_used = 0;  // when its slot last took a request

  // How many of `tokens` a prompt keeps; `score_top` is the request's top_logprobs when it
  // scores its prompt (echo with logprobs). `lost_start`: the cache lost its first positions
  // (sliding-window attention) and is not reused.
  std::size_t reusable(const std::vector<Token>& prompt, std::optional<int> score_top,
                       bool lost_start) const;
  // Keeps the first `n` tokens (n from reusable()) and their scores, and gives a scored prompt's
  // `pieces` (empty for any other) the logprobs kept for pieces 1..n.
  void keep(std::size_t n, std::vector<Piece>& pieces);
  void clear();
};

// The free slot for `prompt`: `caches[i]` is slot i's cache, null while the slot is busy; nullopt
// when every slot is. The one whose cache starts as the prompt does, for at least half of the
// shorter of the two (a BOS or a chat template's first marker alone does not count); else, and
// among equals, the least recently used, so that an unrelated request does not evict a
// conversation that may go on.
std::optional<std::size_t> choose_slot(std::span<const SlotCache* const> caches,
                                       const std::vector<Token>& prompt);

}  // namespace tandem::inference
