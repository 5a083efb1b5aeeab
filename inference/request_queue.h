// What stands in front of the slots, as llama-server's server-queue does: a request holds a slot
// (admitted, until the worker puts it in one) or waits for one in arrival order, up to a limit;
// stopping refuses the new ones and hands back every one not yet in a slot. Callers and the
// worker thread share it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "inference/completion.h"
#include "inference/request.h"

namespace tandem::inference {

class RequestQueue {
 public:
  // `slots` requests run at once; `limit` more may wait.
  RequestQueue(int slots, int limit);

  // Caller side. Throws Error("server is stopping") once stop() ran.
  void check_open() const;
  // A slot if one is free, else the end of the wait queue; QueueFull when that is full too.
  void submit(std::unique_ptr<Request> request);

  // Worker side. Blocks until a request was admitted or `running` (the worker's slots have work,
  // which only the worker changes); false once stopping. Then hands the admitted requests in
  // order to `take`, under the lock: it moves one out into a slot and returns true, or returns
  // false (no slot free) and leaves it and the rest for the next call.
  using Take = std::function<bool(std::unique_ptr<Request>&)>;
  bool wait_for_work(bool running, const Take& take);
  // A request left its slot: the first waiting one is admitted in its place.
  void release_slot();
  // Tokens decoded, counted here so that stats() is one consistent snapshot.
  void count(std::uint64_t prompt_tokens, std::uint64_t generated_tokens);

  CompletionBackend::Stats stats() const;

  // Stops: admits nothing more, wakes the worker, and returns every request not yet in a slot
  // (admitted first, then waiting) for the caller to refuse.
  std::deque<std::unique_ptr<Request>> stop();

 private:
  const int slots_;
  const int limit_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<Request>> admitted_;  // hold a slot, not yet taken up by the worker
  std::deque<std::unique_ptr<Request>> waiting_;   // wait for a slot
  int reserved_ = 0;                               // slots held (admitted or running)
  bool stopping_ = false;
  std::uint64_t prompt_tokens_ = 0;
  std::uint64_t generated_tokens_ = 0;
};

}  // namespace tandem::inference
