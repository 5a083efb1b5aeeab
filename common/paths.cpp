#include "common/paths.h"

#include "common/files.h"

namespace tandem::paths {

std::filesystem::path data_dir() {
  if (auto custom = platform::environment("TANDEM_DATA_DIR"); !custom.empty()) return custom;
  return platform::data_dir();
}

std::filesystem::path config_dir() {
  if (auto custom = platform::environment("TANDEM_CONFIG_DIR"); !custom.empty()) return custom;
  return platform::config_dir();
}

std::filesystem::path logs_dir() {
  return platform::logs_dir();
}

std::filesystem::path models_dir() {
  return data_dir() / "models";
}

std::filesystem::path llm_server_config() {
  return config_dir() / "llm-server.json";
}

std::filesystem::path trainer_config() {
  return config_dir() / "trainer.json";
}

std::filesystem::path jobs_dir(const TrainerConfig& config) {
  return config.jobs_dir.empty() ? data_dir() / "jobs" : path_from_utf8(config.jobs_dir);
}

std::filesystem::path executable_dir() {
  return platform::executable_dir();
}

std::filesystem::path bundled_model() {
  std::error_code ignored;
  auto beside = executable_dir() / "tandem-tiny.gguf";
  if (std::filesystem::exists(beside, ignored)) return beside;
  return platform::installed_model();
}

}  // namespace tandem::paths
