// The endpoint a running server publishes, shared between the code that changes it (startup,
// shutdown) and every pipe or socket thread that answers questions about it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <stop_token>

#include "common/discovery/endpoint.h"

namespace tandem::discovery {

class PublicationState {
 public:
  // `initial` carries the identity (pid, instance, model, pipe, started_at); its state is kept.
  explicit PublicationState(Endpoint initial = {});

  Endpoint current() const;

  // Any state; leaving `ready` drops port, url and addresses. Wakes every waiter.
  void set_state(State state);
  // The whole endpoint, state forced to ready; wakes every waiter at once.
  void publish_ready(Endpoint endpoint);
  // Stop serving: state `stopping`, port/url/addresses dropped; waiters are answered at once.
  void withdraw();

  // The ready endpoint, at once if ready now, else the moment it turns ready. std::nullopt when
  // `timeout` runs out, the state moves to stopping/stopped (it will not turn ready in this
  // process), or `stop` is requested (the server is shutting down). Never polls.
  std::optional<Endpoint> wait_until_ready(std::chrono::milliseconds timeout,
                                           std::stop_token stop = {}) const;

  // How many threads are inside wait_until_ready; true once at least `count` are, within
  // `timeout`. Lets tests (and shutdown diagnostics) know a waiter is really blocked.
  std::size_t waiting() const;
  bool wait_for_waiters(std::size_t count, std::chrono::milliseconds timeout) const;

 private:
  mutable std::mutex mutex_;
  // _any: it can also be woken by a std::stop_token.
  mutable std::condition_variable_any changed_;
  Endpoint endpoint_;
  mutable std::size_t waiting_ = 0;
};

}  // namespace tandem::discovery
