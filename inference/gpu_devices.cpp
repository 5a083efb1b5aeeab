#include "inference/gpu_devices.h"

#include <ggml-backend.h>

#include "common/llama/llama_backend.h"

namespace tandem::inference {
namespace {

std::vector<ggml_backend_dev_t> devices_of(enum ggml_backend_dev_type type) {
  std::vector<ggml_backend_dev_t> out;
  for (std::size_t i = 0; i < ggml_backend_dev_count(); ++i) {
    ggml_backend_dev_t dev = ggml_backend_dev_get(i);
    if (ggml_backend_dev_type(dev) == type &&
        std::string(ggml_backend_reg_name(ggml_backend_dev_backend_reg(dev))) != "RPC") {
      out.push_back(dev);
    }
  }
  return out;
}

std::vector<ggml_backend_dev_t> default_devices() {
  auto gpus = devices_of(GGML_BACKEND_DEVICE_TYPE_GPU);
  return gpus.empty() ? devices_of(GGML_BACKEND_DEVICE_TYPE_IGPU) : gpus;
}

}  // namespace

std::vector<GpuDevice> gpu_devices() {
  llama::ensure_llama_backend();
  const auto all = llama::compute_devices();  // with their memory now
  std::vector<GpuDevice> out;
  for (ggml_backend_dev_t dev : default_devices()) {
    for (const auto& d : all) {
      if (d.name == ggml_backend_dev_name(dev)) {
        out.push_back({d.name, d.description, d.memory_free, d.memory_total});
      }
    }
  }
  return out;
}

ggml_backend_device* find_gpu_device(const std::string& name) {
  for (ggml_backend_dev_t dev : default_devices()) {
    if (name == ggml_backend_dev_name(dev)) return dev;
  }
  return nullptr;
}

}  // namespace tandem::inference
