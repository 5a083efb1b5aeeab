#include "service/llm_service.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include "common/byte_size.h"
#include "common/config.h"
#include "common/discovery/identity.h"
#include "common/error.h"
#include "common/files.h"
#include "common/llama/llama_backend.h"
#include "common/log.h"
#include "common/system_memory.h"
#include "inference/engine.h"
#include "inference/gpu_devices.h"
#include "inference/memory_estimate.h"
#include "service/api/api.h"
#include "service/api/guards.h"
#include "service/config_reload.h"
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

// Where the default model's layers are: on each GPU as loaded, the rest on the CPU.
void place_layers(const models::ModelInfo& model, std::vector<discovery::ComputeDevice>& devices) {
  int on_gpus = 0;
  for (auto& d : devices) {
    d.layers = 0;
    for (const auto& g : model.gpu_layers) {
      if (g.device == d.name) d.layers = g.layers;
    }
    on_gpus += d.type == "cpu" ? 0 : d.layers;
  }
  for (auto& d : devices) {
    if (d.type == "cpu") d.layers = std::max(model.layers - on_gpus, 0);
  }
}

// What the publication says of the models: the default's label and the loaded ones; and of the
// devices, whose free memory they change.
void describe_models(const models::ModelRouter& router, discovery::Endpoint& e) {
  e.devices = llama::compute_devices();
  e.loaded_models.clear();
  for (const auto& m : router.list()) {
    if (m.is_default) {
      e.model = model_label(m.file);
      place_layers(m, e.devices);
    }
    if (m.state == models::ModelState::loaded) e.loaded_models.push_back(m.id);
  }
}

// The default model's entry in the router: its engine's id, its file stem as an alias.
models::CatalogEntry default_entry(const inference::Engine& engine,
                                   const std::filesystem::path& model) {
  models::CatalogEntry e;
  e.id = engine.model_id();
  e.file = model;
  std::error_code size_error;
  e.bytes = std::filesystem::file_size(model, size_error);
  if (e.id != model_label(model)) e.settings.aliases = {model_label(model)};
  return e;
}

// Keeps the publication's list of loaded models current as models load and unload; returns once
// the router shuts down.
void republish_models(models::ModelRouter& router, discovery::Publisher& publisher,
                      discovery::Endpoint ready) {
  std::uint64_t seen = router.last_event();
  while (!router.stopped()) {
    const auto events = router.events_after(seen, std::chrono::hours(24));
    if (events.empty()) continue;
    seen = events.back().seq;
    discovery::Endpoint now = ready;
    describe_models(router, now);
    if ((now.model == ready.model && now.loaded_models == ready.loaded_models) ||
        router.stopped()) {
      continue;
    }
    ready = std::move(now);
    try {
      publisher.ready(ready);
    } catch (const std::exception& e) {
      TLOG(error) << "cannot publish the loaded models: " << e.what();
    }
  }
}

// Set by a GPU that fails while serving: the service stops with kExitGpuFailed.
struct GpuFailure {
  StopSignal* stop = nullptr;
  std::atomic<bool> failed{false};
  void operator()(const std::string& why) {
    TLOG(error) << "a GPU failed while serving (" << why << "); stopping with exit code "
                << kExitGpuFailed << " so that the service restarts, on the CPU if it fails again";
    failed = true;
    stop->request();
  }
};

inference::EngineOptions engine_options(const LlmServerConfig& config,
                                        const std::filesystem::path& model,
                                        GpuFailure* gpu_failure) {
  inference::EngineOptions o;
  o.model = model;
  o.ctx_size = config.ctx_size;
  o.parallel = config.parallel;
  o.queue_limit = config.queue_limit;
  o.cache_ram_mib = config.cache_ram_mib;
  o.threads = config.threads;
  o.gpu = config.gpu;
  if (gpu_failure)
    o.on_gpu_failure = [gpu_failure](const std::string& why) { (*gpu_failure)(why); };
  return o;
}

// Loads a model of the folder, once the estimate of what it needs fits in free memory.
models::ModelRouter::Loader folder_loader(const LlmServerConfig& config,
                                          const ServiceOptions& options, GpuFailure* gpu_failure) {
  return [config, available = options.available_memory,
          gpu_failure](const models::CatalogEntry& c) {
    inference::EngineOptions o = engine_options(config, c.file, gpu_failure);
    o.id = c.id;
    o.ctx_size = c.settings.ctx_size.value_or(config.ctx_size);
    o.parallel = c.settings.parallel.value_or(config.parallel);
    o.gpu.n_gpu_layers = c.settings.n_gpu_layers.value_or(config.gpu.n_gpu_layers);
    const auto need = inference::estimate_memory(c.file, c.bytes, o.ctx_size, o.parallel);
    // What the GPUs take is not asked of RAM.
    const auto plan = o.gpu.n_gpu_layers == 0
                          ? inference::OffloadPlan{}
                          : inference::plan_offload(o.gpu, need, inference::gpu_devices());
    const auto in_ram = need.on_cpu(plan.n_gpu_layers);
    const auto free = available ? available() : available_memory();
    if (free && in_ram > *free) {
      throw models::ModelUnavailable(
          "model '" + c.id + "' needs about " + byte_size_text(in_ram) + " of RAM (weights " +
          byte_size_text(need.weights) + ", KV cache " + byte_size_text(need.kv_cache) +
          ", compute " + byte_size_text(need.compute) +
          (plan.n_gpu_layers > 0 ? ", less " + byte_size_text(need.total() - in_ram) + " on " +
                                       std::to_string(plan.n_gpu_layers) + " GPU layers"
                                 : std::string()) +
          ") and " + byte_size_text(*free) +
          " is free: unload a model (POST /models/unload) or lower its ctx_size or parallel in "
          "models.json");
    }
    return std::shared_ptr<inference::CompletionBackend>(std::make_shared<inference::Engine>(o));
  };
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
  try {
    llama::ensure_llama_backend();
  } catch (const std::exception& e) {
    TLOG(error) << "cannot compute, not starting: " << e.what();
    return kExitNoBackend;
  }
  const bool test_model = config.model.empty();
  const std::filesystem::path model =
      test_model ? options.default_model : path_from_utf8(config.model);

  discovery::Endpoint identity;
  identity.pid = discovery::current_pid();
  identity.instance_id = discovery::new_instance_id();
  identity.pipe_name = options.pipe_name;
  identity.model = model_label(model);
  identity.started_at = discovery::utc_now_iso8601();
  identity.cpu_variant = llama::backend_report()->cpu_variant;
  identity.cpu_features = llama::backend_report()->cpu_features;
  identity.devices = llama::compute_devices();
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

  GpuFailure gpu_failure;
  gpu_failure.stop = &stop;
  std::shared_ptr<inference::Engine> engine;
  try {
    const auto hint = load_hint(model);
    status.starting(hint);
    int last_tick = 0;
    auto started = std::chrono::steady_clock::now();
    engine = std::make_shared<inference::Engine>(
        engine_options(config, model, &gpu_failure), [&](float progress) {
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
  models::RouterOptions router_options;
  router_options.max_loaded = config.max_loaded_models;
  router_options.keep_alive = config.keep_alive;
  models::ModelRouter router(router_options, folder_loader(config, options, &gpu_failure));
  router.set_default(default_entry(*engine, model), engine);
  engine.reset();  // the router's from now on: a new default in llm-server.json replaces it
  const std::filesystem::path models_dir =
      config.models_dir.empty() ? options.models_dir : path_from_utf8(config.models_dir);
  std::optional<models::ModelsFolder> folder;
  if (!models_dir.empty()) {
    folder.emplace(models_dir, model, router, options.still_written, options.make_watch);
    TLOG(info) << "models folder " << path_utf8(models_dir) << ": " << router.list().size() - 1
               << " models besides the default; at most " << config.max_loaded_models
               << " loaded, idle ones unloaded after " << keep_alive_text(config.keep_alive);
  }
  api.set_router(&router);

  LiveSettings live;
  live.limits = [&router](const LlmServerConfig& c) {
    router.set_limits(c.max_loaded_models, c.keep_alive);
    TLOG(info) << "now at most " << c.max_loaded_models
               << " models loaded, idle ones unloaded after " << keep_alive_text(c.keep_alive);
  };
  live.log_level = [](const std::string& level) {
    log::set_level(log::parse_level(level));
    TLOG(info) << "log level now " << level;
  };
  live.default_model = [&router, &config, &options, &gpu_failure](const LlmServerConfig& c) {
    const std::filesystem::path file =
        c.model.empty() ? options.default_model : path_from_utf8(c.model);
    TLOG(info) << "loading the new default model " << path_utf8(file);
    auto next = std::make_shared<inference::Engine>(engine_options(config, file, &gpu_failure));
    router.set_default(default_entry(*next, file), next);
    TLOG(info) << "default model now " << next->model_id();
  };
  ConfigReload reload(options.config_file, config, live, options.make_watch);

  discovery::Endpoint ready = identity;
  ready.state = discovery::State::ready;
  ready.port = port;
  ready.url = discovery::loopback_url(port);
  ready.addresses = discovery::loopback_addresses();
  describe_models(router, ready);
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
  std::thread republisher(
      [&router, &publisher, ready] { republish_models(router, *publisher, ready); });

  stop.wait();
  router.shutdown();  // ends the republisher, /models/events streams; unrouted requests get 503
  republisher.join();

  TLOG(info) << "stopping: withdrawing " << ready.url;
  status.stopping(http_options.stop_grace + 5s);
  int code = gpu_failure.failed ? kExitGpuFailed : kExitOk;
  try {
    publisher->withdraw();
  } catch (const std::exception& e) {
    TLOG(error) << "withdrawing the endpoint failed: " << e.what();
    code = kExitPublishFailed;
  }
  server.stop();  // lets requests in flight finish
  api.set_router(nullptr);
  folder.reset();
  TLOG(info) << "stopped";
  return code;
}

}  // namespace tandem::llm
