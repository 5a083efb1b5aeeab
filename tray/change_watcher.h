// The tray's only source of refreshes: a worker thread that reads a snapshot whenever something
// it watches changes — the publication keys (registry change notifications), the services'
// states (the SCM's notifications), refresh_now() — or at the one moment refresh_at() names; it
// wakes on no timer otherwise (issue 18: an idle tray costs nothing). After a failed read it tries
// again after `retry`. Reading happens here, not on the UI thread, because verifying the endpoint
// talks to the pipe and HTTP.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "tray/tray_state.h"

namespace tandem::tray {

class ChangeWatcher {
 public:
  using Callback = std::function<void(Snapshot)>;
  // `on_snapshot` runs on the worker thread.
  ChangeWatcher(Callback on_snapshot, std::chrono::milliseconds retry);
  // Returns once the worker has finished its round and will call `on_snapshot` no more (or after
  // a bound, logged). The worker is parked, not ended: see change_watcher.cpp.
  ~ChangeWatcher();
  ChangeWatcher(const ChangeWatcher&) = delete;
  ChangeWatcher& operator=(const ChangeWatcher&) = delete;

  void refresh_now();
  // Read again at `when` (steady clock) unless something else does first; replaces an earlier
  // moment; std::nullopt cancels it.
  void refresh_at(std::optional<std::chrono::steady_clock::time_point> when);

  struct Shared;  // what the worker owns with this object, so it may outlive it

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace tandem::tray
