// Slot states that other traffic evicted, kept in RAM (llama-server's --cache-ram): a prompt
// that starts as one of them later is restored from here instead of decoded again. Bounded in
// bytes, least recently used out first. Rules over token vectors and opaque state bytes only;
// the engine reads and writes llama.cpp's sequence states.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <vector>

#include "inference/request.h"

namespace tandem::inference {

struct SavedState {
  std::vector<Token> tokens;        // what the sequence held, in order
  std::vector<std::uint8_t> state;  // llama_state_seq_get_data's bytes for them
};

class RamCache {
 public:
  // Never holds more than `limit_bytes` of states; 0 disables it.
  explicit RamCache(std::size_t limit_bytes) : limit_(limit_bytes) {}

  bool enabled() const { return limit_ > 0; }
  // Whether a sequence holding `tokens` is worth saving when it is evicted for a prompt that
  // keeps only `kept` of them: more than half of it would be lost.
  static bool worth_saving(std::size_t tokens, std::size_t kept) { return tokens > 2 * kept; }

  // Keeps `saved`, dropping states it makes useless (a start of its tokens) and then the least
  // recently used until it fits; one larger than the limit is not kept.
  void put(SavedState saved);
  // Takes out the state sharing the longest start with `prompt`, when that start is more than
  // `better_than` tokens (what its slot keeps) and at least half of the prompt (a first marker
  // alone does not count). Counts a hit, or a miss when the slot keeps less than half too.
  std::optional<SavedState> take(const std::vector<Token>& prompt, std::size_t better_than);

  struct Stats {
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
    std::size_t bytes = 0;
    std::size_t states = 0;
  };
  Stats stats() const;

 private:
  const std::size_t limit_;
  mutable std::mutex mutex_;      // the worker changes it; stats() reads it from any thread
  std::list<SavedState> states_;  // most recently used first
  std::size_t bytes_ = 0;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
};

}  // namespace tandem::inference
