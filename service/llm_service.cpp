#include "service/llm_service.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "common/config.h"
#include "common/discovery/identity.h"
#include "common/error.h"
#include "common/files.h"
#include "common/log.h"
#include "inference/engine.h"
#include "service/api/api.h"
#include "service/api/guards.h"
#include "service/exit_codes.h"
#include "service/http/http_server.h"

namespace tandem::llm {
namespace {

using namespace std::chrono_literals;

// An honest bound for loading: a few seconds plus reading the file at a slow disk's pace.
std::chrono::milliseconds load_hint(const std::filesystem::path& model) {
  std::error_code ec;
  auto bytes = std::filesystem::file_size(model, ec);
  return 5000ms + std::chrono::milliseconds(ec ? 0 : bytes / (50 * 1024));  // 50 MB/s
}

std::string model_label(const std::filesystem::path& model) {
  return model.stem().string();
}

}  // namespace

int run_llm_service(ServiceStatus& status, StopSignal& stop, const ServiceOptions& options) {
  status.starting(5s);
  LlmServerConfig config;
  std::string api_key;
  try {
    config = load_llm_server_config(options.config_file);
    api_key = read_api_key_file(config.api_key_file);
  } catch (const InputError& e) {
    TLOG(error) << "invalid configuration, not starting: " << e.what();
    return kExitBadConfig;
  }
  log::set_level(log::parse_level(config.log_level));
  const bool test_model = config.model.empty();
  const std::filesystem::path model =
      test_model ? options.default_model : path_from_utf8(config.model);

  discovery::Endpoint identity;
  identity.pid = discovery::current_pid();
  identity.instance_id = discovery::new_instance_id();
  identity.pipe_name = options.pipe_name;
  identity.model = model_label(model);
  identity.started_at = discovery::utc_now_iso8601();
  TLOG(info) << "TandemLlm starting: pid " << identity.pid << ", instance " << identity.instance_id
             << ", model " << path_utf8(model)
             << (test_model ? " (test model: output is meaningless - set `model` in " +
                                  path_utf8(options.config_file) + ")"
                            : "");
  if (!api_key.empty()) {
    TLOG(info) << "API key required (" << api::key_hint(api_key) << ")";
  }

  std::unique_ptr<discovery::Publisher> publisher;
  try {
    publisher = options.make_publisher(identity);
    publisher->starting(identity);
  } catch (const std::exception& e) {
    TLOG(error) << "cannot publish the endpoint, not starting: " << e.what();
    return kExitPublishFailed;
  }

  api::ApiOptions api_options;
  api_options.instance_id = identity.instance_id;
  api_options.api_key = api_key;
  api_options.cors_origins = config.cors_origins;
  api::Api api(nullptr, api_options);

  http::ServerOptions http_options;
  http_options.max_body_bytes = static_cast<std::size_t>(config.max_body_bytes);
  http_options.worker_threads =
      static_cast<std::size_t>(std::max(8, config.parallel + config.queue_limit + 4));
  http::HttpServer server(http_options, [&api](const http::Request& r) { return api.handle(r); });
  std::uint16_t port = 0;
  try {
    port = server.listen(config.port, config.port_range);
    server.start();
  } catch (const std::exception& e) {
    TLOG(error) << "cannot listen, not starting: " << e.what();
    return kExitNoPort;
  }
  TLOG(info) << "listening on 127.0.0.1:" << port << " and [::1]:" << port
             << " (/health answers 503 until the model is loaded)";

  std::optional<inference::Engine> engine;
  try {
    const auto hint = load_hint(model);
    status.starting(hint);
    inference::EngineOptions engine_options;
    engine_options.model = model;
    engine_options.ctx_size = config.ctx_size;
    engine_options.parallel = config.parallel;
    engine_options.queue_limit = config.queue_limit;
    engine_options.cache_ram_mib = config.cache_ram_mib;
    engine_options.threads = config.threads;
    int last_tick = 0;
    auto started = std::chrono::steady_clock::now();
    engine.emplace(engine_options, [&](float progress) {
      int tick = static_cast<int>(progress * 10);
      if (tick > last_tick) {  // a rising checkpoint every 10% tells the SCM we are alive
        last_tick = tick;
        status.starting(hint);
      }
    });
    auto load_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    // RUNNING only once the model answers, not merely once it is in memory.
    inference::SamplingParams probe;
    probe.max_tokens = 1;
    probe.temperature = 0;
    engine->complete("Hello", probe);
    TLOG(info) << "model " << engine->model_id() << " loaded in " << load_ms.count()
               << " ms and answers";
  } catch (const std::exception& e) {
    TLOG(error) << "cannot load model " << path_utf8(model) << ": " << e.what();
    return kExitModelFailed;
  }
  api.set_backend(&*engine);

  discovery::Endpoint ready = identity;
  ready.state = discovery::State::ready;
  ready.port = port;
  ready.url = discovery::loopback_url(port);
  ready.addresses = discovery::loopback_addresses();
  // RUNNING first: a client that wakes on the publication checks the SCM's PID and state, so
  // the SCM must already say RUNNING when State=ready appears.
  status.running();
  try {
    publisher->ready(ready);
  } catch (const std::exception& e) {
    TLOG(error) << "cannot publish the endpoint: " << e.what();
    return kExitPublishFailed;
  }
  TLOG(info) << "ready: " << ready.url << " (also http://[::1]:" << port << "), pipe "
             << identity.pipe_name;

  stop.wait();

  TLOG(info) << "stopping: withdrawing " << ready.url;
  status.stopping(http_options.stop_grace + 5s);
  int code = kExitOk;
  try {
    publisher->withdraw();
  } catch (const std::exception& e) {
    TLOG(error) << "withdrawing the endpoint failed: " << e.what();
    code = kExitPublishFailed;
  }
  server.stop();  // lets requests in flight finish
  api.set_backend(nullptr);
  engine->shutdown();
  TLOG(info) << "stopped";
  return code;
}

}  // namespace tandem::llm
