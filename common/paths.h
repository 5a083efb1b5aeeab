// Where Tandem keeps its files (docs/architecture.md#folders-on-a-machine): the one place every
// program asks. The rules are here; each platform's defaults are in win32/default_paths.cpp and
// posix/default_paths.cpp.
//   data    TANDEM_DATA_DIR, else %ProgramData%\Tandem | /var/lib/tandem
//   config  TANDEM_CONFIG_DIR, else <data>\config | $CONFIGURATION_DIRECTORY, else /etc/tandem
//   logs    <data>\logs | $LOGS_DIRECTORY (systemd's LogsDirectory=), else /var/log/tandem
//   jobs    trainer.json's jobs_dir, else <data>/jobs
#pragma once

#include <filesystem>

#include "common/config.h"

namespace tandem::paths {

std::filesystem::path data_dir();
std::filesystem::path config_dir();
std::filesystem::path logs_dir();
std::filesystem::path models_dir();
std::filesystem::path llm_server_config();
std::filesystem::path trainer_config();

// The trainer's spool: trainer.json's `jobs_dir` when it sets one (UTF-8, as configs are), else
// <data>/jobs. TandemTrainer and tandemctl both ask this, so they agree on the folder.
std::filesystem::path jobs_dir(const TrainerConfig& config = {});

// The folder of the running executable: where the installed binaries sit beside each other.
std::filesystem::path executable_dir();
// tandem-tiny.gguf beside the executable (an installed Windows folder, a build tree), else where
// the platform's package puts it.
std::filesystem::path bundled_model();

// Each platform's part (no environment override applied).
namespace platform {
// The environment variable as a path (Windows reads the wide environment, so non-ASCII folder
// names stay intact); empty when it is unset or empty.
std::filesystem::path environment(const char* name);
std::filesystem::path data_dir();
std::filesystem::path config_dir();
std::filesystem::path logs_dir();
std::filesystem::path executable_dir();
std::filesystem::path installed_model();
}  // namespace platform

}  // namespace tandem::paths
