#include "common/shared_read.h"

#include <fcntl.h>
#include <io.h>
#include <windows.h>

#include <cerrno>

namespace tandem {

// CreateFileW(GENERIC_READ) needs FILE_GENERIC_READ on the file; sharing read, write and delete
// lets a writer replace the file while it is read (docs/windows-contracts.md).
std::FILE* open_shared_for_reading(const std::filesystem::path& file) {
  HANDLE h = CreateFileW(file.c_str(), GENERIC_READ,
                         FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                         OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) {
    const DWORD e = GetLastError();
    errno = (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND) ? ENOENT
            : e == ERROR_ACCESS_DENIED                               ? EACCES
                                                                     : EIO;
    return nullptr;
  }
  // The descriptor owns the handle from here, the stream the descriptor.
  const int fd = _open_osfhandle(reinterpret_cast<intptr_t>(h), _O_RDONLY | _O_BINARY);
  if (fd < 0) {
    CloseHandle(h);
    return nullptr;
  }
  std::FILE* f = _fdopen(fd, "rb");
  if (!f) _close(fd);
  return f;
}

}  // namespace tandem
