// llm-server.json changed while the server runs: what can change live does (the default model,
// keep_alive, max_loaded_models, log_level), each key that needs a restart is named in the log,
// and an invalid file changes nothing (the log names its file, line and field).
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/config.h"
#include "service/models/models_folder.h"

namespace tandem::llm {

struct LiveSettings {
  std::function<void(const LlmServerConfig& now)> limits;  // keep_alive, max_loaded_models
  std::function<void(const std::string& level)> log_level;
  std::function<void(const LlmServerConfig& now)> default_model;  // may throw: the old one stays
};

// Applies what differs between `running` (the file as last read) and `now`; returns the keys
// that need a restart. `running` becomes `now`, but for a default model that failed to load.
std::vector<std::string> apply_config_change(LlmServerConfig& running, const LlmServerConfig& now,
                                             const LiveSettings& live);

// Watches the config file's folder and applies each change until destroyed.
class ConfigReload {
 public:
  ConfigReload(std::filesystem::path file, LlmServerConfig running, LiveSettings live,
               const models::MakeWatch& make_watch);
  ~ConfigReload();

 private:
  void reload();

  const std::filesystem::path file_;
  LlmServerConfig running_;
  const LiveSettings live_;
  std::jthread watcher_;
};

}  // namespace tandem::llm
