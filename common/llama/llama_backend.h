// Process-wide llama.cpp set-up, shared by the server (inference/) and the trainer's finetune
// jobs: ggml's backends loaded from the executable's own folder, its log routed into ours.
#pragma once

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <ggml.h>

#include "common/discovery/endpoint.h"
#include "common/error.h"

namespace tandem::llama {

// No CPU backend module loaded: none beside the executable, or none this processor can run.
class BackendsMissing : public Error {
 public:
  using Error::Error;
};

// What ensure_llama_backend loaded: logged at start and published by the server.
struct BackendReport {
  std::filesystem::path folder;       // where the modules were loaded from
  std::string cpu_variant;            // the CPU module chosen for this processor: "haswell"
  std::string cpu_features;           // its instruction sets, as ggml reports them: "AVX AVX2 FMA"
  std::vector<std::string> backends;  // ggml's backends now registered: "CPU"
};

// Loads ggml's backend modules by full path from the executable's folder — never PATH nor the
// current directory — the best CPU variant for this processor among them, then initialises
// llama.cpp. Once per process; throws BackendsMissing naming the folder when no CPU backend loads.
void ensure_llama_backend();
// The same from `folder` (tests). Later calls, of either, return the first one's report.
const BackendReport& ensure_llama_backend_from(const std::filesystem::path& folder);
// The report of the loaded backends; nullptr before ensure_llama_backend().
const BackendReport* backend_report();
// ggml's devices with their memory now (free memory changes).
std::vector<discovery::ComputeDevice> compute_devices();

// ggml's CPU thread pool lives in the CPU backend module, so it is reached through that backend's
// registry, never linked. ensure_llama_backend() first; new_cpu_threadpool throws on failure.
ggml_threadpool* new_cpu_threadpool(ggml_threadpool_params& params);
void free_cpu_threadpool(ggml_threadpool* pool);

// Threads for decoding: what was asked (0 means all cores), never above the core count —
// on 2 cores, 4 busy-waiting threads ran over 2,000x slower (TOOLCHAIN.md).
int effective_threads(int requested, unsigned cores = std::thread::hardware_concurrency());

}  // namespace tandem::llama
