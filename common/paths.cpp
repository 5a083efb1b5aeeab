#include "common/paths.h"

#include <cstdlib>

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
  auto root = from_env("ProgramData");
  return (root.empty() ? std::filesystem::path("C:\\ProgramData") : root) / "Tandem";
#else
  return "/var/lib/tandem";
#endif
}

}  // namespace tandem::paths
