#include "common/paths.h"

#include <cstdlib>

#ifdef _WIN32
#include "common/win32/known_folders.h"
#endif

namespace tandem::paths {
namespace {

std::filesystem::path from_env(const char* name) {
#ifdef _WIN32
  // The wide environment keeps non-ASCII folder names intact.
  std::wstring wide(name, name + std::char_traits<char>::length(name));
  const wchar_t* value = _wgetenv(wide.c_str());
#else
  const char* value = std::getenv(name);
#endif
  return value && *value ? std::filesystem::path(value) : std::filesystem::path();
}

}  // namespace

std::filesystem::path data_dir() {
  if (auto custom = from_env("TANDEM_DATA_DIR"); !custom.empty()) return custom;
#ifdef _WIN32
  // Not %ProgramData%: a service's environment may lack it or differ (Wine gives services
  // C:\users\Public); the known folder is what every process agrees on.
  return detail::program_data_dir() / "Tandem";
#else
  return "/var/lib/tandem";
#endif
}

}  // namespace tandem::paths
