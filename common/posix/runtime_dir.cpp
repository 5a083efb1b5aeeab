#include "common/posix/runtime_dir.h"

#include <cstdlib>
#include <string>

namespace tandem::posix {

std::filesystem::path runtime_dir() {
  if (const char* custom = std::getenv("TANDEM_RUNTIME_DIR"); custom && *custom) return custom;
  if (const char* systemd = std::getenv("RUNTIME_DIRECTORY"); systemd && *systemd) {
    // systemd joins several RuntimeDirectory= entries with ':'; ours is the first.
    const std::string all = systemd;
    return all.substr(0, all.find(':'));
  }
  return "/run/tandem";
}

}  // namespace tandem::posix
