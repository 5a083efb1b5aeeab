// Whether a file is still open for writing somewhere (a model being copied into the folder):
// a read lease can only be taken when no process has it open for writing (fcntl(2) F_SETLEASE).
#pragma once

#include <filesystem>

namespace tandem::posix {

// False when the system cannot say (a lease needs the file's owner or CAP_LEASE).
bool open_for_writing(const std::filesystem::path& file);

}  // namespace tandem::posix
