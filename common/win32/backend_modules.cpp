// Windows part of loading ggml's backend modules (common/llama/backend_modules.h). Rows in
// docs/windows-contracts.md ("Loading ggml's backend modules").
#include "common/llama/backend_modules.h"

#include <windows.h>

#include "common/files.h"
#include "common/win32/error.h"

namespace tandem::llama::platform {
namespace {

struct FreeModule {
  void operator()(HMODULE module) const { FreeLibrary(module); }
};

}  // namespace

void restrict_library_search() {
  // The executable's own imports (libllama.dll, ggml.dll, ggml-base.dll) were resolved from its
  // folder before main; this covers every later LoadLibrary: ggml's and the modules' own imports.
  if (!SetDefaultDllDirectories(LOAD_LIBRARY_SEARCH_APPLICATION_DIR |
                                LOAD_LIBRARY_SEARCH_SYSTEM32)) {
    win32::throw_last_error("SetDefaultDllDirectories(application folder, System32)");
  }
}

std::optional<int> backend_score(const std::filesystem::path& file, std::string& why) {
  // The module's own imports from its folder (ggml-base.dll) and System32, nowhere else.
  std::unique_ptr<std::remove_pointer_t<HMODULE>, FreeModule> module(LoadLibraryExW(
      file.c_str(), nullptr, LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR | LOAD_LIBRARY_SEARCH_SYSTEM32));
  if (!module) {
    why = "LoadLibraryExW(" + path_utf8(file) + ") failed: " + win32::error_text(GetLastError());
    return std::nullopt;
  }
  using Score = int (*)();
  auto score = reinterpret_cast<Score>(
      reinterpret_cast<void*>(GetProcAddress(module.get(), "ggml_backend_score")));
  return score ? score() : 1;
}

}  // namespace tandem::llama::platform
