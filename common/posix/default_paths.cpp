// paths.h's Linux part: the folders systemd makes for the units (ConfigurationDirectory=,
// LogsDirectory=), with the FHS defaults when run by hand, and the .deb's shared data folder.
#include <cstdlib>
#include <string>
#include <system_error>

#include "common/error.h"
#include "common/paths.h"

namespace tandem::paths::platform {
namespace {

// systemd joins several directories of one kind with ':'; ours is the first.
std::filesystem::path first_of(const char* variable) {
  const std::string all = environment(variable).string();
  return all.substr(0, all.find(':'));
}

}  // namespace

std::filesystem::path environment(const char* name) {
  const char* value = std::getenv(name);
  return value && *value ? std::filesystem::path(value) : std::filesystem::path();
}

std::filesystem::path data_dir() {
  return "/var/lib/tandem";
}

std::filesystem::path config_dir() {
  if (auto systemd = first_of("CONFIGURATION_DIRECTORY"); !systemd.empty()) return systemd;
  return "/etc/tandem";
}

std::filesystem::path logs_dir() {
  if (auto systemd = first_of("LOGS_DIRECTORY"); !systemd.empty()) return systemd;
  return "/var/log/tandem";
}

std::filesystem::path executable_dir() {
  std::error_code error;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) throw Error("readlink(/proc/self/exe) failed: " + error.message());
  return exe.parent_path();
}

std::filesystem::path installed_model() {
  return "/usr/share/tandem/tandem-tiny.gguf";
}

}  // namespace tandem::paths::platform
