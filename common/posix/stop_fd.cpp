#include "common/posix/stop_fd.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

namespace tandem::posix {

StopFd::StopFd(std::stop_token stop) : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!fd_) throw_errno("eventfd(stop)");
  // Constructed last: the callback may run at once, and the eventfd must exist by then.
  callback_.emplace(std::move(stop), Signal{this});
}

StopFd::~StopFd() {
  // Unregisters (waiting for a running callback) before the eventfd closes.
  callback_.reset();
}

void StopFd::signal() const {
  const std::uint64_t one = 1;
  // The counter cannot overflow in practice; a failed write leaves it readable anyway.
  [[maybe_unused]] ssize_t n = ::write(fd_.get(), &one, sizeof one);
}

}  // namespace tandem::posix
