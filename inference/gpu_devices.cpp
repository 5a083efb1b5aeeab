#include "inference/gpu_devices.h"

#include <ggml-backend.h>

#include "common/llama/llama_backend.h"

namespace tandem::inference {

std::vector<GpuDevice> gpu_devices() {
  llama::ensure_llama_backend();
  const auto all = llama::compute_devices();  // with their memory now
  std::vector<GpuDevice> out;
  for (const char* type : {"gpu", "igpu"}) {  // integrated ones only without a discrete one
    for (const auto& d : all) {
      if (d.type == type) out.push_back({d.name, d.description, d.memory_free, d.memory_total});
    }
    if (!out.empty()) break;
  }
  return out;
}

ggml_backend_device* find_gpu_device(const std::string& name) {
  return ggml_backend_dev_by_name(name.c_str());
}

}  // namespace tandem::inference
