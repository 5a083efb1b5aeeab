#include "common/posix/service_paths.h"

#include <cstdlib>
#include <string>
#include <system_error>

#include "common/error.h"

namespace tandem::posix {
namespace {

std::filesystem::path first_of(const char* variable) {
  const char* value = std::getenv(variable);
  if (value == nullptr || *value == '\0') return {};
  // systemd joins several directories of one kind with ':'; ours is the first.
  const std::string all = value;
  return all.substr(0, all.find(':'));
}

}  // namespace

std::filesystem::path config_dir() {
  if (auto custom = first_of("TANDEM_CONFIG_DIR"); !custom.empty()) return custom;
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

std::filesystem::path bundled_model() {
  std::error_code ignored;
  auto beside = executable_dir() / "tandem-tiny.gguf";
  if (std::filesystem::exists(beside, ignored)) return beside;
  return "/usr/share/tandem/tandem-tiny.gguf";
}

}  // namespace tandem::posix
