// inotify on a folder: the Linux change notification behind the resolver's wait (the runtime
// folder) and the trainer's inbox watch. Events queue in the kernel from the moment the watch is
// made, so a change between a look and the next wait is never missed.
#pragma once

#include <chrono>
#include <filesystem>
#include <stop_token>

#include "common/folder_watch.h"
#include "common/posix/fd.h"

namespace tandem::posix {

class DirWatch final : public FolderWatch {
 public:
  // Watches `folder`, or, while it does not exist, the nearest folder above it that does (so
  // its creation is seen too; the caller looks again and makes a new watch then).
  explicit DirWatch(const std::filesystem::path& folder);

  // True on a change (all queued events are consumed), false when `timeout` runs out or at once
  // when `stop` is requested.
  bool wait_for_change(std::chrono::milliseconds timeout, std::stop_token stop) override;
  // The same, but throws StopRequested on a stop.
  bool wait(std::chrono::milliseconds timeout, std::stop_token stop);

  const std::filesystem::path& watched() const { return watched_; }

 private:
  Fd inotify_;
  std::filesystem::path watched_;
};

}  // namespace tandem::posix
