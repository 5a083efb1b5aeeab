// What the inference::Engine tests share: engine options on the tiny model, greedy sampling,
// bounded waits, and a request that holds a slot until the test lets it go.
#pragma once

#include <chrono>
#include <future>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "inference/engine.h"
#include "tests/support/tiny_model.h"

namespace tandem::testing {

using namespace std::chrono_literals;
inline constexpr auto kEngineBound =
    120s;  // generous: ASan builds and Wine are slow, a hang is not

inline inference::EngineOptions engine_options(int parallel = 2, int ctx_size = 256,
                                               int queue_limit = 16) {
  inference::EngineOptions o;
  o.model = tiny_model_path();
  o.parallel = parallel;
  o.ctx_size = ctx_size;
  o.queue_limit = queue_limit;
  // One thread: llama.cpp's busy-waiting threads crawl when test processes share the cores.
  o.threads = 1;
  return o;
}

inline inference::SamplingParams greedy(int max_tokens = 16) {
  inference::SamplingParams p;
  p.temperature = 0;
  p.max_tokens = max_tokens;
  return p;
}

// Waits for an async result with a bound, failing the test clearly instead of hanging.
template <typename T>
T get_within(std::future<T>& f, const char* what) {
  if (f.wait_for(kEngineBound) != std::future_status::ready) {
    ADD_FAILURE() << what << " did not finish within " << kEngineBound.count() << " s";
    throw std::runtime_error("timed out");
  }
  return f.get();
}

// A greedy request that holds a slot of `engine`: once constructed, its callback is blocked at
// its first piece until release() (bounded, so a failing test cannot hang the worker forever).
class BusySlot {
 public:
  BusySlot(inference::Engine& engine, int max_tokens) {
    done_ = std::async(std::launch::async, [this, &engine, max_tokens] {
      return engine.complete(
          "Keep the slot busy", greedy(max_tokens), [this](const inference::Piece&) {
            if (first_) {
              first_ = false;
              entered_.set_value();
              return released_.wait_for(kEngineBound) == std::future_status::ready;
            }
            return true;
          });
    });
    if (entered_.get_future().wait_for(kEngineBound) != std::future_status::ready) {
      throw std::runtime_error("the busy request never produced a piece");
    }
  }
  ~BusySlot() {
    try {
      if (done_.valid()) release();
    } catch (...) {  // reported by get_within already
    }
  }
  BusySlot(const BusySlot&) = delete;
  BusySlot& operator=(const BusySlot&) = delete;

  inference::CompletionResult release() {
    release_.set_value();
    return get_within(done_, "the busy request");
  }

 private:
  std::promise<void> entered_;
  std::promise<void> release_;
  std::shared_future<void> released_ = release_.get_future().share();
  bool first_ = true;
  std::future<inference::CompletionResult> done_;
};

}  // namespace tandem::testing
