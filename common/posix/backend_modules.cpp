// Linux part of loading ggml's backend modules (common/llama/backend_modules.h).
#include "common/llama/backend_modules.h"

#include <dlfcn.h>

#include <memory>

#include "common/files.h"

namespace tandem::llama::platform {
namespace {

struct CloseLibrary {
  void operator()(void* library) const { dlclose(library); }
};

}  // namespace

void restrict_library_search() {}

std::optional<int> backend_score(const std::filesystem::path& file, std::string& why) {
  // A path with a '/' is opened as named: no search through LD_LIBRARY_PATH or the current
  // directory. The module's own needs (libggml-base.so) are already in the process.
  std::unique_ptr<void, CloseLibrary> library(dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL));
  if (!library) {
    const char* error = dlerror();
    why = "dlopen(" + path_utf8(file) + ") failed: " + (error ? error : "unknown error");
    return std::nullopt;
  }
  using Score = int (*)();
  auto score = reinterpret_cast<Score>(dlsym(library.get(), "ggml_backend_score"));
  return score ? score() : 1;
}

}  // namespace tandem::llama::platform
