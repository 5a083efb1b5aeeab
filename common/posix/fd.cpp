#include "common/posix/fd.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"

namespace tandem::posix {

void Fd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

std::string errno_text(int error) {
  return std::strerror(error);
}

void throw_errno(const std::string& call, int error) {
  throw Error(call + " failed: " + errno_text(error));
}

void throw_errno(const std::string& call) {
  throw_errno(call, errno);
}

}  // namespace tandem::posix
