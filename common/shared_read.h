// Opening a file to read it without standing in the way of its writers: on Windows a reader
// that does not share delete makes another process's atomic replace (MoveFileExW) of that file
// fail; each platform's part is in win32/ and posix/shared_read.cpp.
#pragma once

#include <cstdio>
#include <filesystem>

namespace tandem {

// A stdio stream ("rb") on `file`, or null with errno set (ENOENT when it does not exist).
std::FILE* open_shared_for_reading(const std::filesystem::path& file);

}  // namespace tandem
