// What stands in front of the slots, as llama-server's server-queue does: a request holds a slot
// (admitted, until the worker puts it in one) or waits for one in arrival order, up to a limit;
// stopping refuses the new ones and hands back every one not yet in a slot. Embedding requests
// wait in a queue of their own for the worker, under the same limit. Callers and the worker
// thread share it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "inference/completion.h"
#include "inference/request.h"

namespace tandem::inference {

class RequestQueue {
 public:
  // `slots` requests run at once; `limit` more may wait.
  RequestQueue(int slots, int limit);

  // A place in the queue, taken before a request's prompt is tokenized, so that an overloaded
  // server refuses a request without doing any work for it. Given back unless submitted.
  class Admission {
   public:
    Admission(Admission&& other) noexcept;
    Admission& operator=(Admission&&) = delete;
    ~Admission();
    int places() const { return places_; }

   private:
    friend class RequestQueue;
    Admission(RequestQueue* queue, int places) : queue_(queue), places_(places) {}
    RequestQueue* queue_;
    int places_;
  };

  // Caller side. Throws Error("server is stopping") once stop() ran.
  void check_open() const;
  // `places` slots (a request's choices run at once), counted against the slots and the wait
  // queue's limit: QueueFull when they are all taken.
  Admission admit(int places = 1);
  // The admitted requests (one per place) take slots if enough are free, else wait together at
  // the end of the wait queue.
  void submit(Admission admission, std::vector<std::unique_ptr<Request>> group);
  void submit(std::unique_ptr<Request> request);  // admit(1), then submit
  void submit_embedding(Admission admission, std::unique_ptr<EmbedRequest> request);

  // Worker side. Blocks until a request was admitted, an embedding waits, or `running` (the
  // worker has work, which only the worker changes); false once stopping. Then hands the
  // admitted requests in order to `take`, under the lock: it moves one out into a slot and
  // returns true, or returns false (no slot free) and leaves it and the rest for the next call.
  using Take = std::function<bool(std::unique_ptr<Request>&)>;
  bool wait_for_work(bool running, const Take& take);
  // The first waiting embedding request, or null.
  std::unique_ptr<EmbedRequest> take_embedding();
  // A request left its slot: the first waiting ones are admitted in its place.
  void release_slot();
  // Tokens decoded, counted here so that stats() is one consistent snapshot.
  void count(std::uint64_t prompt_tokens, std::uint64_t generated_tokens);

  CompletionBackend::Stats stats() const;

  // Stops: admits nothing more, wakes the worker, and returns every request not yet in a slot
  // (admitted first, then waiting) for the caller to refuse; then drop_embeddings() hands back
  // the embedding requests the worker has not taken.
  std::deque<std::unique_ptr<Request>> stop();
  std::deque<std::unique_ptr<EmbedRequest>> drop_embeddings();

 private:
  void withdraw(int places);
  int outstanding() const;  // places held: in slots, waiting, embeddings, admitted unsubmitted

  const int slots_;
  const int limit_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<Request>> admitted_;  // hold a slot, not yet taken up by the worker
  std::deque<std::vector<std::unique_ptr<Request>>> waiting_;  // groups waiting for slots
  std::deque<std::unique_ptr<EmbedRequest>> embeddings_;
  int reserved_ = 0;  // slots held (admitted or running)
  int waiting_places_ = 0;
  int pending_ = 0;  // places admitted, whose request is not submitted yet
  bool stopping_ = false;
  std::uint64_t prompt_tokens_ = 0;
  std::uint64_t generated_tokens_ = 0;
};

}  // namespace tandem::inference
