#include "common/posix/dir_watch.h"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>

#include "common/error.h"
#include "common/files.h"
#include "common/posix/stop_fd.h"
#include "common/posix/unix_socket.h"

namespace tandem::posix {

DirWatch::DirWatch(const std::filesystem::path& folder)
    : inotify_(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) {
  if (!inotify_) throw_errno("inotify_init1()");
  constexpr std::uint32_t kEvents = IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM |
                                    IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;
  std::filesystem::path at = folder.empty() ? std::filesystem::path(".") : folder;
  for (;;) {
    if (::inotify_add_watch(inotify_.get(), at.c_str(), kEvents) >= 0) {
      watched_ = at;
      return;
    }
    if ((errno != ENOENT && errno != ENOTDIR) || at == at.parent_path() || at.empty()) {
      throw_errno("inotify_add_watch(" + path_utf8(at) + ")");
    }
    at = at.parent_path();
  }
}

bool DirWatch::wait(std::chrono::milliseconds timeout, std::stop_token stop) {
  const StopFd stop_fd(std::move(stop));
  const auto deadline =
      timeout == kWaitForChangeOnly ? Clock::time_point::max() : Clock::now() + timeout;
  switch (wait_fd(inotify_.get(), POLLIN, stop_fd.get(), deadline)) {
    case Wait::stopped:
      throw StopRequested();
    case Wait::timed_out:
      return false;
    case Wait::ready:
      break;
  }
  alignas(inotify_event) char buffer[4096];
  while (::read(inotify_.get(), buffer, sizeof buffer) > 0) {
  }
  return true;
}

bool DirWatch::wait_for_change(std::chrono::milliseconds timeout, std::stop_token stop) {
  try {
    return wait(timeout, std::move(stop));
  } catch (const StopRequested&) {
    return false;
  }
}

}  // namespace tandem::posix
