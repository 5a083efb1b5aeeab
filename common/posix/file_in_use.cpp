#include "common/posix/file_in_use.h"

#include <fcntl.h>

#include <cerrno>

#include "common/posix/fd.h"

namespace tandem::posix {

bool open_for_writing(const std::filesystem::path& file) {
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd) return false;  // gone or unreadable: the scan or the load says so
  if (::fcntl(fd.get(), F_SETLEASE, F_RDLCK) != 0) return errno == EAGAIN;
  ::fcntl(fd.get(), F_SETLEASE, F_UNLCK);
  return false;
}

}  // namespace tandem::posix
