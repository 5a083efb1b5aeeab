// The two config files (docs/architecture.md#configuration-files). Every key is optional; a
// missing file means defaults; anything invalid throws InputError naming file, line and field.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/gpu_offload.h"
#include "common/keep_alive.h"

namespace tandem {

struct LlmServerConfig {
  std::string model;  // path to a GGUF; empty means the bundled test model
  // The folder of models served on demand (every .gguf in it, by file stem); empty: the default.
  std::string models_dir;
  int max_loaded_models = 3;     // the default model counts
  KeepAlive keep_alive{5 * 60};  // an idle model other than the default unloads after this
  std::uint16_t port = 8030;
  int port_range = 20;   // how many ports to try, starting at `port`
  int threads = 0;       // 0 means one per core; never more than the cores
  int ctx_size = 2048;   // tokens per slot
  int parallel = 2;      // slots decoding at once
  int queue_limit = 16;  // requests waiting for a slot before 503
  // MiB of RAM for slot states other traffic evicted (llama-server's --cache-ram); 0: none.
  int cache_ram_mib = 1024;
  GpuOffload gpu;  // n_gpu_layers, main_gpu, devices
  std::int64_t max_body_bytes = 1 << 20;
  std::string api_key_file;
  // Web pages ("https://app.example", or "*" for any) that may call the API from a browser;
  // empty: none, so a page the user visits cannot drive the server.
  std::vector<std::string> cors_origins;
  std::string log_level = "info";
};

struct TrainerConfig {
  int connect_timeout_ms = 2000;
  int read_timeout_ms = 120000;
  int resolve_timeout_ms = 120000;
  int max_retries = 8;
  std::string jobs_dir;  // empty means <data dir>/jobs
  std::string log_level = "info";
};

LlmServerConfig parse_llm_server_config(const std::string& origin, std::string_view text);
TrainerConfig parse_trainer_config(const std::string& origin, std::string_view text);

// Missing file: defaults. Unreadable or invalid: InputError naming the file.
LlmServerConfig load_llm_server_config(const std::filesystem::path& file);
TrainerConfig load_trainer_config(const std::filesystem::path& file);

// The key in `file` (surrounding whitespace dropped); empty `file`: no key. An empty or unreadable
// file: InputError naming it.
std::string read_api_key_file(const std::string& file);

// Log levels accepted in configs and on command lines.
bool is_log_level(std::string_view level);

}  // namespace tandem
