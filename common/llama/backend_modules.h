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

// A module loaded by its full path; unloaded with this object unless kept.
class Module {
 public:
  explicit Module(void* handle) : handle_(handle) {}
  Module(Module&& other) noexcept : handle_(other.handle_) { other.handle_ = nullptr; }
  Module& operator=(Module&&) = delete;
  ~Module();

  // The exported function `name`, or nullptr.
  void* symbol(const char* name) const;
  // Loaded for the rest of the process: ggml runs the module's code from now on.
  void keep() { handle_ = nullptr; }

 private:
  void* handle_;
};

// Loads `file` by its full path, given as the file system names it (wide on Windows: ggml's own
// loader takes a narrow path, which a folder named outside the ANSI code page breaks). Its own
// imports come from its folder and the system's only. nullopt says why in `why`.
std::optional<Module> open_module(const std::filesystem::path& file, std::string& why);

}  // namespace tandem::llama::platform
