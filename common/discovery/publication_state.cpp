#include "common/discovery/publication_state.h"

namespace tandem::discovery {
namespace {

void drop_address(Endpoint& e) {
  e.port = 0;
  e.url.clear();
  e.addresses.clear();
}

}  // namespace

PublicationState::PublicationState(Endpoint initial) : endpoint_(std::move(initial)) {
  if (endpoint_.state != State::ready) drop_address(endpoint_);
}

Endpoint PublicationState::current() const {
  std::lock_guard lock(mutex_);
  return endpoint_;
}

void PublicationState::set_state(State state) {
  {
    std::lock_guard lock(mutex_);
    endpoint_.state = state;
    if (state != State::ready) drop_address(endpoint_);
  }
  changed_.notify_all();
}

void PublicationState::publish_ready(Endpoint endpoint) {
  endpoint.state = State::ready;
  {
    std::lock_guard lock(mutex_);
    endpoint_ = std::move(endpoint);
  }
  changed_.notify_all();
}

void PublicationState::withdraw() {
  set_state(State::stopping);
}

std::optional<Endpoint> PublicationState::wait_until_ready(std::chrono::milliseconds timeout,
                                                           std::stop_token stop) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mutex_);
  ++waiting_;
  changed_.notify_all();  // for wait_for_waiters
  changed_.wait_until(lock, stop, deadline, [this] { return endpoint_.state != State::starting; });
  --waiting_;
  if (endpoint_.state != State::ready) return std::nullopt;
  return endpoint_;
}

std::size_t PublicationState::waiting() const {
  std::lock_guard lock(mutex_);
  return waiting_;
}

bool PublicationState::wait_for_waiters(std::size_t count,
                                        std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return waiting_ >= count; });
}

}  // namespace tandem::discovery
