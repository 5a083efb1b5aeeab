#include "common/llama/llama_backend.h"

#include <mutex>
#include <optional>
#include <string>

#include <ggml-backend-impl.h>  // GGML_BACKEND_API_VERSION, which a module must match
#include <ggml-backend.h>
#include <llama.h>

#include "common/files.h"
#include "common/llama/backend_modules.h"
#include "common/log.h"
#include "common/paths.h"

namespace tandem::llama {
namespace {

void route_log(ggml_log_level level, const char* text, void*) {
  std::string line(text ? text : "");
  while (!line.empty() && line.back() == '\n') line.pop_back();
  if (line.empty()) return;
  log::Level ours = level == GGML_LOG_LEVEL_ERROR  ? log::Level::error
                    : level == GGML_LOG_LEVEL_WARN ? log::Level::warning
                                                   : log::Level::debug;
  log::write(ours, "llama: " + line);
}

// A module scored and still loaded: the one chosen is registered without loading it again.
struct Candidate {
  std::filesystem::path file;
  std::string variant;  // "" for a module without variants
  int score = 0;
  platform::Module module;
};

// ggml_backend_load's steps after the load, with the path as the file system names it (see
// open_module): the module's registry is registered with ggml, and the module stays loaded.
ggml_backend_reg_t register_module(Candidate& chosen, std::string& why) {
  const std::string file = path_utf8(chosen.file);
  using Init = ggml_backend_reg_t (*)();
  auto init = reinterpret_cast<Init>(chosen.module.symbol("ggml_backend_init"));
  if (!init) {
    why = file + " exports no ggml_backend_init: not a ggml backend module";
    return nullptr;
  }
  ggml_backend_reg_t reg = init();
  if (!reg) {
    why = "ggml_backend_init of " + file + " failed (the log says why)";
    return nullptr;
  }
  if (reg->api_version != GGML_BACKEND_API_VERSION) {
    why = file + " is built for ggml backend API " + std::to_string(reg->api_version) +
          ", this build has " + std::to_string(GGML_BACKEND_API_VERSION) +
          ": it is from another llama.cpp";
    return nullptr;
  }
  ggml_backend_register(reg);
  chosen.module.keep();
  return reg;
}

// The module of `backend` in `folder` this machine runs best, as ggml's own loader picks it
// (ggml_backend_load_best), but looking in that one folder only.
std::optional<Candidate> best_module(const std::filesystem::path& folder,
                                     const std::string& backend, std::string& problems) {
  const std::string stem = platform::kModulePrefix + backend;
  std::optional<Candidate> best;
  std::error_code error;
  for (std::filesystem::directory_iterator it(folder, error), end; !error && it != end;
       it.increment(error)) {
    const std::string name = path_utf8(it->path().filename());
    if (it->path().extension() != platform::kModuleSuffix || name.rfind(stem, 0) != 0) continue;
    const std::string rest = name.substr(
        stem.size(), name.size() - stem.size() - std::string(platform::kModuleSuffix).size());
    if (!rest.empty() && rest[0] != '-') continue;  // ggml-cpu-x.dll or ggml-cpu.dll, not ggml-cpux
    std::string why;
    auto module = platform::open_module(it->path(), why);
    if (!module) {
      problems += "; " + why;
      continue;
    }
    // ggml_backend_score: 0, this machine cannot run it; none exported, it can.
    using Score = int (*)();
    auto score_of = reinterpret_cast<Score>(module->symbol("ggml_backend_score"));
    const int score = score_of ? score_of() : 1;
    TLOG(debug) << "backend module " << name << ": score " << score;
    if (score > 0 && (!best || score > best->score)) {
      best.emplace(
          Candidate{it->path(), rest.empty() ? "" : rest.substr(1), score, std::move(*module)});
    }
  }
  if (error) problems += "; cannot list " + path_utf8(folder) + ": " + error.message();
  return best;
}

// The instruction sets the CPU backend was built with, from its ggml_backend_get_features.
std::string cpu_features(ggml_backend_reg_t reg) {
  using GetFeatures = ggml_backend_feature* (*)(ggml_backend_reg_t);
  auto get = reinterpret_cast<GetFeatures>(
      ggml_backend_reg_get_proc_address(reg, "ggml_backend_get_features"));
  std::string out;
  for (auto* f = get ? get(reg) : nullptr; f && f->name; ++f) {
    out += (out.empty() ? "" : " ") + std::string(f->name);
  }
  return out;
}

BackendReport load_backends(const std::filesystem::path& folder) {
  platform::restrict_library_search();
  std::string problems;
  auto cpu = best_module(folder, "cpu", problems);
  if (!cpu) {
    throw BackendsMissing("no CPU backend loaded from " + path_utf8(folder) + ": expected " +
                          platform::kModulePrefix + "cpu-*" + platform::kModuleSuffix +
                          " there that this processor runs" + problems);
  }
  std::string why;
  ggml_backend_reg_t reg = register_module(*cpu, why);
  if (!reg) throw BackendsMissing("cannot load the CPU backend: " + why);
  // The GPU backends beside it (ggml-vulkan; ggml-cuda where built) load only where their
  // driver's library exists (vulkan-1.dll, libvulkan.so.1, CUDA's): without one, the CPU.
  for (const char* gpu : {"vulkan", "cuda"}) {
    why.clear();
    auto module = best_module(folder, gpu, why);
    if (module && register_module(*module, why)) continue;
    if (module) why = "; " + why;
    if (!why.empty()) {
      TLOG(warning) << "GPU backend " << gpu
                    << " not loaded, models run on the CPU: " << why.substr(2);
    }
  }
  BackendReport report;
  report.folder = folder;
  report.cpu_variant = cpu->variant.empty() ? "generic" : cpu->variant;
  report.cpu_features = cpu_features(reg);
  for (std::size_t i = 0; i < ggml_backend_reg_count(); ++i) {
    report.backends.emplace_back(ggml_backend_reg_name(ggml_backend_reg_get(i)));
  }
  return report;
}

std::once_flag g_once;
std::optional<BackendReport> g_report;

}  // namespace

const BackendReport& ensure_llama_backend_from(const std::filesystem::path& folder) {
  std::call_once(g_once, [&folder] {
    llama_log_set(route_log, nullptr);
    // Before llama_backend_init, which would otherwise look for modules in the current
    // directory too (ggml_backend_load_all) when none is registered.
    g_report = load_backends(folder);
    llama_backend_init();
    std::string devices;
    for (const auto& d : compute_devices()) {
      devices += (devices.empty() ? "" : ", ") + d.name + " (" + d.description + ")";
    }
    TLOG(info) << "llama.cpp backends from " << path_utf8(folder) << ": CPU variant "
               << g_report->cpu_variant << " (" << g_report->cpu_features << "); devices "
               << devices;
  });
  return *g_report;
}

void ensure_llama_backend() {
  ensure_llama_backend_from(paths::executable_dir());
}

const BackendReport* backend_report() {
  return g_report ? &*g_report : nullptr;
}

std::vector<discovery::ComputeDevice> compute_devices() {
  std::vector<discovery::ComputeDevice> out;
  for (std::size_t i = 0; i < ggml_backend_dev_count(); ++i) {
    ggml_backend_dev_t dev = ggml_backend_dev_get(i);
    discovery::ComputeDevice d;
    d.name = ggml_backend_dev_name(dev);
    d.description = ggml_backend_dev_description(dev);
    switch (ggml_backend_dev_type(dev)) {
      case GGML_BACKEND_DEVICE_TYPE_CPU:
        d.type = "cpu";
        break;
      case GGML_BACKEND_DEVICE_TYPE_GPU:
        d.type = "gpu";
        break;
      case GGML_BACKEND_DEVICE_TYPE_IGPU:
        d.type = "igpu";
        break;
      default:
        d.type = "accel";
        break;
    }
    std::size_t free = 0;
    std::size_t total = 0;
    ggml_backend_dev_memory(dev, &free, &total);
    d.memory_free = free;
    d.memory_total = total;
    out.push_back(std::move(d));
  }
  return out;
}

namespace {

template <typename Function>
Function cpu_function(const char* name) {
  ggml_backend_reg_t cpu = ggml_backend_reg_by_name("CPU");
  void* address = cpu ? ggml_backend_reg_get_proc_address(cpu, name) : nullptr;
  if (!address) throw Error(std::string("the CPU backend does not provide ") + name);
  return reinterpret_cast<Function>(address);
}

}  // namespace

ggml_threadpool* new_cpu_threadpool(ggml_threadpool_params& params) {
  using New = ggml_threadpool* (*)(ggml_threadpool_params*);
  ggml_threadpool* pool = cpu_function<New>("ggml_threadpool_new")(&params);
  if (!pool)
    throw Error("ggml_threadpool_new failed for " + std::to_string(params.n_threads) + " threads");
  return pool;
}

void free_cpu_threadpool(ggml_threadpool* pool) {
  using Free = void (*)(ggml_threadpool*);
  if (pool) cpu_function<Free>("ggml_threadpool_free")(pool);
}

int effective_threads(int requested, unsigned cores) {
  int max = cores > 0 ? static_cast<int>(cores) : 1;
  if (requested <= 0 || requested > max) return max;
  return requested;
}

}  // namespace tandem::llama
