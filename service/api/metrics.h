// Counters for GET /metrics, rendered as Prometheus text (exposition format 0.0.4).
// Thread-safe: every request thread records, the /metrics handler renders.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "inference/completion.h"

namespace tandem::api {

class Metrics {
 public:
  // Upper bounds (seconds) of tandem_request_duration_seconds; +Inf is implied.
  static constexpr std::array<double, 13> kDurationBuckets = {
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

  // `route` is the route's path, or a fixed label for paths that matched none.
  void record_request(std::string_view route, int status, double seconds);
  void record_error(std::string_view code);
  void add_tokens(int prompt_tokens, int generated_tokens);

  // `stats` gives the queue and slot gauges; null while the model loads.
  std::string render(const inference::CompletionBackend::Stats* stats) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
  std::map<std::string, std::uint64_t> errors_;
  std::uint64_t prompt_tokens_ = 0;
  std::uint64_t generated_tokens_ = 0;
  std::array<std::uint64_t, kDurationBuckets.size()> buckets_{};  // not cumulative
  double duration_sum_ = 0;
  std::uint64_t duration_count_ = 0;
};

}  // namespace tandem::api
