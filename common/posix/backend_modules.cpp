// Linux part of loading ggml's backend modules (common/llama/backend_modules.h).
#include "common/llama/backend_modules.h"

#include <dlfcn.h>

#include "common/files.h"

namespace tandem::llama::platform {

void restrict_library_search() {}

Module::~Module() {
  if (handle_) dlclose(handle_);
}

void* Module::symbol(const char* name) const {
  return dlsym(handle_, name);
}

std::optional<Module> open_module(const std::filesystem::path& file, std::string& why) {
  // A path with a '/' is opened as named: no search through LD_LIBRARY_PATH or the current
  // directory. The module's own needs (libggml-base.so) are already in the process.
  void* library = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char* error = dlerror();
    why = "dlopen(" + path_utf8(file) + ") failed: " + (error ? error : "unknown error");
    return std::nullopt;
  }
  return Module(library);
}

}  // namespace tandem::llama::platform
