// How a finetune job cuts its tokens into training steps: fixed windows of `context` tokens
// (each with the next token as its label), a validation split and a per-epoch order that
// depend only on the seed, so a resumed job knows which window every step trains on without
// saving any random state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tandem::finetune {

// Non-overlapping windows of `context` tokens in `tokens` tokens; each needs one more token
// after it as the last label.
std::size_t window_count(std::size_t tokens, int context);

struct WindowSplit {
  std::vector<std::size_t> train;       // window indices, ascending
  std::vector<std::size_t> validation;  // likewise
};
// round(count * fraction) windows drawn by `seed` for validation (at least one when fraction >
// 0 and there are two or more windows); the rest train.
WindowSplit split_windows(std::size_t count, double fraction, std::uint64_t seed);

// The training windows in the order epoch `epoch` (0-based) visits them: a shuffle by (seed,
// epoch), the same on every platform.
std::vector<std::size_t> epoch_order(const std::vector<std::size_t>& train, std::uint64_t seed,
                                     int epoch);

}  // namespace tandem::finetune
