// Where the Linux services find their configuration, logs and bundled model, following the
// folders systemd makes for the units (ConfigurationDirectory=, LogsDirectory=), with the FHS
// defaults when run by hand.
#pragma once

#include <filesystem>

namespace tandem::posix {

// TANDEM_CONFIG_DIR, else $CONFIGURATION_DIRECTORY, else /etc/tandem.
std::filesystem::path config_dir();
// $LOGS_DIRECTORY (systemd's LogsDirectory=), else /var/log/tandem.
std::filesystem::path logs_dir();
// The folder of the running executable (/proc/self/exe).
std::filesystem::path executable_dir();
// tandem-tiny.gguf beside the executable (a build tree), else /usr/share/tandem/tandem-tiny.gguf.
std::filesystem::path bundled_model();

}  // namespace tandem::posix
