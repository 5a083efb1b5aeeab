// Windows known folders, for common/paths.cpp.
#pragma once

#include <filesystem>

namespace tandem::paths::detail {

// FOLDERID_ProgramData ("C:\ProgramData"); throws tandem::Error if the shell cannot say.
std::filesystem::path program_data_dir();

}  // namespace tandem::paths::detail
