#include "service/config_reload.h"

#include "common/files.h"
#include "common/log.h"

namespace tandem::llm {

std::vector<std::string> apply_config_change(LlmServerConfig& running, const LlmServerConfig& now,
                                             const LiveSettings& live) {
  std::vector<std::string> restart;
  auto needs_restart = [&](const char* key, bool changed) {
    if (changed) restart.emplace_back(key);
  };
  needs_restart("port", running.port != now.port);
  needs_restart("port_range", running.port_range != now.port_range);
  needs_restart("threads", running.threads != now.threads);
  needs_restart("ctx_size", running.ctx_size != now.ctx_size);
  needs_restart("parallel", running.parallel != now.parallel);
  needs_restart("queue_limit", running.queue_limit != now.queue_limit);
  needs_restart("max_body_bytes", running.max_body_bytes != now.max_body_bytes);
  needs_restart("api_key_file", running.api_key_file != now.api_key_file);
  needs_restart("cors_origins", running.cors_origins != now.cors_origins);
  needs_restart("models_dir", running.models_dir != now.models_dir);
  if (running.keep_alive != now.keep_alive || running.max_loaded_models != now.max_loaded_models) {
    live.limits(now);
  }
  if (running.log_level != now.log_level) live.log_level(now.log_level);
  const std::string model = running.model;
  running = now;  // each change is applied or named once
  if (model != now.model) {
    running.model = model;
    live.default_model(now);  // throws: the old default serves on, and is tried at the next change
    running.model = now.model;
  }
  return restart;
}

ConfigReload::ConfigReload(std::filesystem::path file, LlmServerConfig running, LiveSettings live,
                           const models::MakeWatch& make_watch)
    : file_(std::move(file)), running_(std::move(running)), live_(std::move(live)) {
  if (!make_watch || file_.empty()) return;
  std::shared_ptr<FolderWatch> watch;
  try {
    // Made here, before the server says it is ready: a change right after is not missed.
    watch = make_watch(file_.parent_path());
  } catch (const std::exception& e) {
    TLOG(error) << "cannot watch " << path_utf8(file_)
                << "; changes take effect at the next restart: " << e.what();
    return;
  }
  reload();  // a change between the first read and the watch
  watcher_ = std::jthread([this, watch](std::stop_token stop) {
    try {
      while (!stop.stop_requested()) {
        if (!watch->wait_for_change(kWaitForChangeOnly, stop)) continue;
        if (stop.stop_requested()) return;
        reload();
      }
    } catch (const std::exception& e) {
      TLOG(error) << "watching " << path_utf8(file_)
                  << " failed; changes take effect at the next restart: " << e.what();
    }
  });
}

ConfigReload::~ConfigReload() {
  watcher_.request_stop();
  if (watcher_.joinable()) watcher_.join();
}

void ConfigReload::reload() {
  LlmServerConfig now;
  try {
    now = load_llm_server_config(file_);
  } catch (const std::exception& e) {
    TLOG(error) << "changed configuration not applied, the running one stays: " << e.what();
    return;
  }
  try {
    for (const auto& key : apply_config_change(running_, now, live_)) {
      TLOG(warning) << path_utf8(file_) << ": '" << key
                    << "' changed; it takes effect when TandemLlm restarts";
    }
  } catch (const std::exception& e) {
    TLOG(error) << "changed configuration only partly applied: " << e.what();
  }
}

}  // namespace tandem::llm
