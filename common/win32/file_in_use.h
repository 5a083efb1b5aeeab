// Whether a file is still open for writing somewhere (a model being copied into the folder):
// opening it while denying others write access fails with a sharing violation while a writer
// holds it.
#pragma once

#include <filesystem>

namespace tandem::win32 {

// False when the file cannot be opened for another reason (the scan or the load says why).
bool open_for_writing(const std::filesystem::path& file);

}  // namespace tandem::win32
