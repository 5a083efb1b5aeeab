#include "trainer/finetune/token_windows.h"

#include <algorithm>
#include <cmath>

#include "trainer/distill/rng.h"

namespace tandem::finetune {

std::size_t window_count(std::size_t tokens, int context) {
  if (context <= 0 || tokens < 1) return 0;
  return (tokens - 1) / static_cast<std::size_t>(context);
}

WindowSplit split_windows(std::size_t count, double fraction, std::uint64_t seed) {
  std::vector<std::size_t> all(count);
  for (std::size_t i = 0; i < count; ++i) all[i] = i;
  distill::SplitMix64 rng(distill::mix64(seed ^ 0x7661'6c69'6461'7465ULL));  // "validate"
  distill::portable_shuffle(all, rng);
  auto n_val = static_cast<std::size_t>(std::llround(static_cast<double>(count) * fraction));
  if (fraction > 0 && n_val == 0 && count >= 2) n_val = 1;
  if (n_val >= count && count > 0) n_val = count - 1;  // keep one window to train on
  WindowSplit split;
  split.validation.assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n_val));
  split.train.assign(all.begin() + static_cast<std::ptrdiff_t>(n_val), all.end());
  std::sort(split.validation.begin(), split.validation.end());
  std::sort(split.train.begin(), split.train.end());
  return split;
}

std::vector<std::size_t> epoch_order(const std::vector<std::size_t>& train, std::uint64_t seed,
                                     int epoch) {
  std::vector<std::size_t> order = train;
  distill::SplitMix64 rng(distill::mix64(seed + 0x9e3779b97f4a7c15ULL * (epoch + 1ULL)));
  distill::portable_shuffle(order, rng);
  return order;
}

}  // namespace tandem::finetune
