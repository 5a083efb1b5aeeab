// One FolderWatch over several folders (done/ and failed/ for `jobs --wait`): a change in any of
// them wakes the waiter; a watch that fails makes the next wait throw its error. Each folder's
// watch waits on its own thread. Portable.
#pragma once

#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

#include "common/folder_watch.h"

namespace tandem::ctl {

class AnyFolderWatch final : public FolderWatch {
 public:
  explicit AnyFolderWatch(std::vector<std::unique_ptr<FolderWatch>> watches);
  ~AnyFolderWatch() override;
  bool wait_for_change(std::chrono::milliseconds timeout, std::stop_token stop) override;

 private:
  void watch(FolderWatch& folder, std::stop_token stop);

  std::vector<std::unique_ptr<FolderWatch>> watches_;
  std::mutex mutex_;
  std::condition_variable_any changed_;
  bool pending_ = false;
  std::exception_ptr error_;           // a watch failed: the next wait throws it
  std::vector<std::jthread> threads_;  // last: stopped and joined before the rest goes
};

}  // namespace tandem::ctl
