// Windows known folders, for common/paths.cpp.
#pragma once

#include <filesystem>

namespace tandem::paths::detail {

// FOLDERID_ProgramData ("C:\ProgramData"); throws tandem::Error if the shell cannot say.
std::filesystem::path program_data_dir();
// The folder of this process's .exe: where the installed binaries sit beside each other.
std::filesystem::path executable_dir();

}  // namespace tandem::paths::detail
