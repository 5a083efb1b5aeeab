// Windows part of loading ggml's backend modules (common/llama/backend_modules.h). Rows in
// docs/windows-contracts.md ("Loading ggml's backend modules").
#include "common/llama/backend_modules.h"

#include <windows.h>

#include "common/files.h"
#include "common/win32/error.h"

namespace tandem::llama::platform {

void restrict_library_search() {
  // The executable's own imports (libllama.dll, ggml.dll, ggml-base.dll) were resolved from its
  // folder before main; this covers every later LoadLibrary: ggml's and the modules' own imports.
  if (!SetDefaultDllDirectories(LOAD_LIBRARY_SEARCH_APPLICATION_DIR |
                                LOAD_LIBRARY_SEARCH_SYSTEM32)) {
    win32::throw_last_error("SetDefaultDllDirectories(application folder, System32)");
  }
}

Module::~Module() {
  if (handle_) FreeLibrary(static_cast<HMODULE>(handle_));
}

void* Module::symbol(const char* name) const {
  return reinterpret_cast<void*>(GetProcAddress(static_cast<HMODULE>(handle_), name));
}

std::optional<Module> open_module(const std::filesystem::path& file, std::string& why) {
  // The module's own imports from its folder (ggml-base.dll) and System32 (vulkan-1.dll), nowhere
  // else; the path stays wide from the directory listing to here.
  HMODULE module = LoadLibraryExW(file.c_str(), nullptr,
                                  LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR | LOAD_LIBRARY_SEARCH_SYSTEM32);
  if (!module) {
    why = "LoadLibraryExW(" + path_utf8(file) + ") failed: " + win32::error_text(GetLastError());
    return std::nullopt;
  }
  return Module(module);
}

}  // namespace tandem::llama::platform
