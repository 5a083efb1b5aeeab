// Where Tandem keeps its files (docs/architecture.md#folders-on-a-machine): %ProgramData%\Tandem;
// /var/lib/tandem elsewhere; TANDEM_DATA_DIR overrides both (tests, portable installs).
#pragma once

#include <filesystem>

namespace tandem::paths {

std::filesystem::path data_dir();
inline std::filesystem::path config_dir() {
  return data_dir() / "config";
}
inline std::filesystem::path logs_dir() {
  return data_dir() / "logs";
}
inline std::filesystem::path jobs_dir() {
  return data_dir() / "jobs";
}
inline std::filesystem::path models_dir() {
  return data_dir() / "models";
}

inline std::filesystem::path llm_server_config() {
  return config_dir() / "llm-server.json";
}
inline std::filesystem::path trainer_config() {
  return config_dir() / "trainer.json";
}

}  // namespace tandem::paths
