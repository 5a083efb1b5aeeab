// A random sequence that is the same on every platform, compiler and standard library, so a
// training run with a given seed is reproducible anywhere. std::shuffle and
// std::uniform_int_distribution are not: their algorithms are left to each library.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace tandem::distill {

// SplitMix64's output function: every input bit affects every output bit.
constexpr std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// SplitMix64 (Steele, Lea and Flood, 2014): tiny state, good enough for shuffling.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() { return mix64(state_ += 0x9e3779b97f4a7c15ULL); }

  // Uniform in [0, bound), bound > 0. Rejection instead of a bare modulo keeps it unbiased.
  std::uint64_t below(std::uint64_t bound) {
    const std::uint64_t threshold = (0 - bound) % bound;  // 2^64 mod bound
    for (;;) {
      std::uint64_t r = next();
      if (r >= threshold) return r % bound;
    }
  }

 private:
  std::uint64_t state_;
};

// Fisher-Yates with SplitMix64::below.
template <class T>
void portable_shuffle(std::vector<T>& items, SplitMix64& rng) {
  for (std::size_t i = items.size(); i > 1; --i) {
    std::size_t j = static_cast<std::size_t>(rng.below(i));
    std::swap(items[i - 1], items[j]);
  }
}

}  // namespace tandem::distill
