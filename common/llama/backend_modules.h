// Each platform's part of loading ggml's backend modules (win32/ and posix/backend_modules.cpp).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace tandem::llama::platform {

// A backend module's file name is <prefix><backend>[-<variant>]<suffix>: ggml-cpu-haswell.dll,
// libggml-cpu-haswell.so.
#ifdef _WIN32
inline constexpr const char* kModulePrefix = "ggml-";
inline constexpr const char* kModuleSuffix = ".dll";
#else
inline constexpr const char* kModulePrefix = "libggml-";
inline constexpr const char* kModuleSuffix = ".so";
#endif

// From now on the DLLs this process loads, and theirs, come from its own folder and System32
// only (Windows); on Linux a path with a '/' is loaded as named, so there is nothing to do.
void restrict_library_search();

// Loads `file` by its full path, asks its ggml_backend_score (0: this machine cannot run it)
// and unloads it. A module without that export scores 1; one that does not load gives nullopt
// and says why.
std::optional<int> backend_score(const std::filesystem::path& file, std::string& why);

}  // namespace tandem::llama::platform
