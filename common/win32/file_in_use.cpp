#include "common/win32/file_in_use.h"

#include "common/win32/handle.h"

namespace tandem::win32 {

// CreateFileW with GENERIC_READ needs FILE_GENERIC_READ on the file's DACL (the service's
// account reads the models folder); FILE_SHARE_READ alone makes a writer's handle conflict.
bool open_for_writing(const std::filesystem::path& file) {
  FileHandle h(CreateFileW(file.c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr, OPEN_EXISTING,
                           FILE_ATTRIBUTE_NORMAL, nullptr));
  return !h && GetLastError() == ERROR_SHARING_VIOLATION;
}

}  // namespace tandem::win32
