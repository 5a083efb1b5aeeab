#include "ctl/any_folder_watch.h"

#include <exception>

namespace tandem::ctl {
namespace {

// How long one thread's wait lasts before it simply waits again; not a poll of anything.
constexpr std::chrono::hours kRearm{1};

}  // namespace

AnyFolderWatch::AnyFolderWatch(std::vector<std::unique_ptr<FolderWatch>> watches)
    : watches_(std::move(watches)) {
  for (auto& w : watches_) {
    threads_.emplace_back([this, &folder = *w](std::stop_token stop) { watch(folder, stop); });
  }
}

AnyFolderWatch::~AnyFolderWatch() {
  for (auto& t : threads_) t.request_stop();
  threads_.clear();
}

void AnyFolderWatch::watch(FolderWatch& folder, std::stop_token stop) {
  while (!stop.stop_requested()) {
    std::exception_ptr error;
    bool changed = false;
    try {
      changed = folder.wait_for_change(kRearm, stop);
    } catch (...) {
      error = std::current_exception();  // the waiter rethrows it
    }
    if (!changed && !error) continue;
    {
      std::lock_guard lock(mutex_);
      pending_ = true;
      if (error && !error_) error_ = error;
    }
    changed_.notify_all();
    if (error) return;
  }
}

bool AnyFolderWatch::wait_for_change(std::chrono::milliseconds timeout, std::stop_token stop) {
  std::unique_lock lock(mutex_);
  const bool woke = changed_.wait_for(lock, stop, timeout, [this] { return pending_; });
  if (!woke) return false;
  if (error_) std::rethrow_exception(error_);
  pending_ = false;
  return true;
}

}  // namespace tandem::ctl
