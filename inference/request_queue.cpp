#include "inference/request_queue.h"

#include <algorithm>
#include <string>
#include <utility>

#include "common/error.h"

namespace tandem::inference {

RequestQueue::RequestQueue(int slots, int limit) : slots_(slots), limit_(limit) {}

RequestQueue::Admission::Admission(Admission&& other) noexcept
    : queue_(std::exchange(other.queue_, nullptr)), places_(other.places_) {}

RequestQueue::Admission::~Admission() {
  if (queue_) queue_->withdraw(places_);
}

void RequestQueue::check_open() const {
  std::lock_guard lock(mutex_);
  if (stopping_) throw Error("server is stopping");
}

int RequestQueue::outstanding() const {
  return reserved_ + waiting_places_ + static_cast<int>(embeddings_.size()) + pending_;
}

RequestQueue::Admission RequestQueue::admit(int places) {
  std::lock_guard lock(mutex_);
  if (stopping_) throw Error("server is stopping");
  if (places < 1 || places > slots_) {
    throw Error("a request needs 1 to " + std::to_string(slots_) + " slots, not " +
                std::to_string(places));
  }
  if (outstanding() + places > slots_ + limit_) {
    const int waiting = std::max(0, outstanding() - slots_);
    throw QueueFull("all " + std::to_string(slots_) + " slots are busy and " +
                    std::to_string(waiting) + " requests already wait (queue_limit " +
                    std::to_string(limit_) + ")");
  }
  pending_ += places;
  return Admission(this, places);
}

void RequestQueue::withdraw(int places) {
  std::lock_guard lock(mutex_);
  pending_ -= places;
}

void RequestQueue::submit(Admission admission, std::vector<std::unique_ptr<Request>> group) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) throw Error("server is stopping");  // the admission gives its places back
    const int places = std::exchange(admission.queue_, nullptr) ? admission.places_ : 0;
    pending_ -= places;
    // Only behind nobody: a request never overtakes one that waits.
    if (waiting_.empty() && reserved_ + places <= slots_) {
      reserved_ += places;
      for (auto& r : group) admitted_.push_back(std::move(r));
    } else {
      waiting_places_ += places;
      waiting_.push_back(std::move(group));
    }
  }
  wake_.notify_one();
}

void RequestQueue::submit(std::unique_ptr<Request> request) {
  std::vector<std::unique_ptr<Request>> one;
  one.push_back(std::move(request));
  submit(admit(1), std::move(one));
}

void RequestQueue::submit_embedding(Admission admission, std::unique_ptr<EmbedRequest> request) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) throw Error("server is stopping");
    pending_ -= std::exchange(admission.queue_, nullptr) ? admission.places_ : 0;
    embeddings_.push_back(std::move(request));
  }
  wake_.notify_one();
}

bool RequestQueue::wait_for_work(bool running, const Take& take) {
  std::unique_lock lock(mutex_);
  wake_.wait(lock,
             [&] { return stopping_ || !admitted_.empty() || !embeddings_.empty() || running; });
  if (stopping_) return false;
  while (!admitted_.empty() && take(admitted_.front())) admitted_.pop_front();
  return true;
}

std::unique_ptr<EmbedRequest> RequestQueue::take_embedding() {
  std::lock_guard lock(mutex_);
  if (stopping_ || embeddings_.empty()) return nullptr;
  auto request = std::move(embeddings_.front());
  embeddings_.pop_front();
  return request;
}

void RequestQueue::release_slot() {
  std::lock_guard lock(mutex_);
  --reserved_;
  while (!stopping_ && !waiting_.empty() &&
         reserved_ + static_cast<int>(waiting_.front().size()) <= slots_) {
    const auto places = static_cast<int>(waiting_.front().size());
    for (auto& r : waiting_.front()) admitted_.push_back(std::move(r));
    waiting_.pop_front();
    waiting_places_ -= places;
    reserved_ += places;
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
  s.queued = waiting_places_ + static_cast<int>(embeddings_.size());
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
    for (auto& r : admitted_) dropped.push_back(std::move(r));
    admitted_.clear();
    for (auto& group : waiting_) {
      for (auto& r : group) dropped.push_back(std::move(r));
    }
    waiting_.clear();
    waiting_places_ = 0;
  }
  wake_.notify_all();
  return dropped;
}

std::deque<std::unique_ptr<EmbedRequest>> RequestQueue::drop_embeddings() {
  std::lock_guard lock(mutex_);
  return std::exchange(embeddings_, {});
}

}  // namespace tandem::inference
