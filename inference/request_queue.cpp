#include "inference/request_queue.h"

#include <string>
#include <utility>

#include "common/error.h"

namespace tandem::inference {

RequestQueue::RequestQueue(int slots, int limit) : slots_(slots), limit_(limit) {}

void RequestQueue::check_open() const {
  std::lock_guard lock(mutex_);
  if (stopping_) throw Error("server is stopping");
}

void RequestQueue::submit(std::unique_ptr<Request> request) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) throw Error("server is stopping");
    if (reserved_ < slots_) {
      ++reserved_;
      admitted_.push_back(std::move(request));
    } else if (static_cast<int>(waiting_.size()) < limit_) {
      waiting_.push_back(std::move(request));
    } else {
      throw QueueFull("all " + std::to_string(slots_) + " slots are busy and " +
                      std::to_string(limit_) + " requests already wait (queue_limit " +
                      std::to_string(limit_) + ")");
    }
  }
  wake_.notify_one();
}

bool RequestQueue::wait_for_work(bool running, const Take& take) {
  std::unique_lock lock(mutex_);
  wake_.wait(lock, [&] { return stopping_ || !admitted_.empty() || running; });
  if (stopping_) return false;
  while (!admitted_.empty() && take(admitted_.front())) admitted_.pop_front();
  return true;
}

void RequestQueue::release_slot() {
  std::lock_guard lock(mutex_);
  --reserved_;
  if (!stopping_ && !waiting_.empty()) {
    admitted_.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
    ++reserved_;
  }
}

void RequestQueue::count(std::uint64_t prompt_tokens, std::uint64_t generated_tokens) {
  std::lock_guard lock(mutex_);
  prompt_tokens_ += prompt_tokens;
  generated_tokens_ += generated_tokens;
}

CompletionBackend::Stats RequestQueue::stats() const {
  std::lock_guard lock(mutex_);
  CompletionBackend::Stats s;
  s.slots = slots_;
  s.busy_slots = reserved_;
  s.queued = static_cast<int>(waiting_.size());
  s.prompt_tokens = prompt_tokens_;
  s.generated_tokens = generated_tokens_;
  return s;
}

std::deque<std::unique_ptr<Request>> RequestQueue::stop() {
  std::deque<std::unique_ptr<Request>> dropped;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    reserved_ -= static_cast<int>(admitted_.size());
    for (auto* queue : {&admitted_, &waiting_}) {
      for (auto& r : *queue) dropped.push_back(std::move(r));
      queue->clear();
    }
  }
  wake_.notify_all();
  return dropped;
}

}  // namespace tandem::inference
