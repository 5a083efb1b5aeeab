// Waiting for files to appear in a folder (the job inbox) without polling: a change
// notification on Windows, a test's own trigger in unit tests.
#pragma once

#include <chrono>
#include <stop_token>

namespace tandem {

// A timeout that never runs out: only a change or a stop ends the wait.
inline constexpr std::chrono::milliseconds kWaitForChangeOnly = std::chrono::milliseconds::max();

class FolderWatch {
 public:
  virtual ~FolderWatch() = default;
  // Returns when something in the folder may have changed (true), when `timeout` runs out
  // (false: the caller rescans anyway, in case a notification was lost), or at once when `stop`
  // is requested (false). Changes since the previous call count, so none is missed between a
  // scan and the next wait.
  virtual bool wait_for_change(std::chrono::milliseconds timeout, std::stop_token stop) = 0;
};

}  // namespace tandem
