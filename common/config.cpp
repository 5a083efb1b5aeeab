#include "common/config.h"

#include <array>

#include "common/error.h"
#include "common/files.h"
#include "common/json_fields.h"

namespace tandem {
namespace {

constexpr std::array kLogLevels = {"trace", "debug", "info", "warning", "error"};

std::string log_level_field(ObjectReader& r, const std::string& fallback) {
  auto level = r.string("log_level");
  if (!level) return fallback;
  if (!is_log_level(*level)) {
    r.fail("log_level",
           "expected one of trace, debug, info, warning, error; got \"" + *level + "\"");
  }
  return *level;
}

template <typename T>
void set_int(ObjectReader& r, const char* key, T& target, std::int64_t min, std::int64_t max) {
  if (auto v = r.integer(key, min, max)) target = static_cast<T>(*v);
}

}  // namespace

bool is_log_level(std::string_view level) {
  for (auto l : kLogLevels) {
    if (level == l) return true;
  }
  return false;
}

LlmServerConfig parse_llm_server_config(const std::string& origin, std::string_view text) {
  JsonSource source(origin, text);
  ObjectReader r(source);
  LlmServerConfig c;
  if (auto model = r.string("model")) c.model = *model;
  if (auto dir = r.string("models_dir")) c.models_dir = *dir;
  set_int(r, "max_loaded_models", c.max_loaded_models, 1, 64);
  if (auto k = r.keep_alive("keep_alive")) c.keep_alive = *k;
  set_int(r, "port", c.port, 1, 65535);
  set_int(r, "port_range", c.port_range, 1, 1000);
  set_int(r, "threads", c.threads, 0, 1024);
  set_int(r, "ctx_size", c.ctx_size, 64, 1 << 20);
  set_int(r, "parallel", c.parallel, 1, 64);
  set_int(r, "queue_limit", c.queue_limit, 0, 100000);
  set_int(r, "cache_ram_mib", c.cache_ram_mib, 0, 1 << 20);
  r.gpu_offload(c.gpu);
  set_int(r, "max_body_bytes", c.max_body_bytes, 1024, std::int64_t{1} << 30);
  if (auto f = r.string("api_key_file")) c.api_key_file = *f;
  if (auto origins = r.strings("cors_origins")) {
    for (const std::string& o : *origins) {
      // What a browser sends: scheme://host[:port], nothing after it.
      const auto scheme = o.find("://");
      if (o != "*" && (scheme == std::string::npos || scheme == 0 ||
                       o.find('/', scheme + 3) != std::string::npos || o.size() == scheme + 3)) {
        r.fail("cors_origins",
               "expected origins like \"http://localhost:3000\" or \"*\", got \"" + o + "\"");
      }
    }
    c.cors_origins = std::move(*origins);
  }
  c.log_level = log_level_field(r, c.log_level);
  r.reject_unknown();
  if (c.port + c.port_range - 1 > 65535) {
    r.fail("port_range", "port " + std::to_string(c.port) + " plus " +
                             std::to_string(c.port_range) + " ports runs past 65535");
  }
  return c;
}

TrainerConfig parse_trainer_config(const std::string& origin, std::string_view text) {
  JsonSource source(origin, text);
  ObjectReader r(source);
  TrainerConfig c;
  constexpr std::int64_t kDay = 24LL * 3600 * 1000;
  set_int(r, "connect_timeout_ms", c.connect_timeout_ms, 1, kDay);
  set_int(r, "read_timeout_ms", c.read_timeout_ms, 1, kDay);
  set_int(r, "resolve_timeout_ms", c.resolve_timeout_ms, 0, kDay);
  set_int(r, "max_retries", c.max_retries, 0, 1000);
  if (auto d = r.string("jobs_dir")) c.jobs_dir = *d;
  c.log_level = log_level_field(r, c.log_level);
  r.reject_unknown();
  return c;
}

LlmServerConfig load_llm_server_config(const std::filesystem::path& file) {
  auto text = read_file_if_exists(file);
  return text ? parse_llm_server_config(path_utf8(file), *text) : LlmServerConfig{};
}

TrainerConfig load_trainer_config(const std::filesystem::path& file) {
  auto text = read_file_if_exists(file);
  return text ? parse_trainer_config(path_utf8(file), *text) : TrainerConfig{};
}

std::string read_api_key_file(const std::string& file) {
  if (file.empty()) return {};
  std::string key = read_file(path_from_utf8(file));
  key.erase(key.find_last_not_of(" \t\r\n") + 1);
  key.erase(0, key.find_first_not_of(" \t\r\n"));
  if (key.empty()) throw InputError(file, "the API key file is empty");
  return key;
}

}  // namespace tandem
