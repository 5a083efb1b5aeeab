// Which layers of a model go to which GPU: llm-server.json's n_gpu_layers, main_gpu and devices
// against the devices found and what the model's layers take. Portable and pure, so it is
// tested without a GPU; inference/gpu_devices reads the devices from ggml.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/gpu_offload.h"
#include "inference/memory_estimate.h"

namespace tandem::inference {

struct GpuDevice {
  std::string name;         // ggml's: "Vulkan0"
  std::string description;  // the driver's: "NVIDIA GeForce RTX 3060"
  std::uint64_t free = 0;   // bytes of device memory free now
  std::uint64_t total = 0;
};

// Left free on each device by "auto": the driver, other programs and the display need some.
std::uint64_t auto_headroom(const GpuDevice& device);

struct OffloadPlan {
  int n_gpu_layers = 0;            // asked of llama.cpp; at most `offloadable`
  int offloadable = 0;             // the model's layers and its output layer
  std::vector<GpuDevice> devices;  // in use, in the order llama.cpp gets them
  std::vector<int> layers;         // per device of `devices`
  // Per device, passed to llama.cpp as tensor_split, so it splits the layers as `layers` says.
  std::vector<float> split;
  std::string note;  // why fewer layers than asked are offloaded; empty: none
};

// `found`: the machine's GPUs in ggml's order. Never throws: a device that is missing or too
// small makes the plan offload less, and `note` says why.
OffloadPlan plan_offload(const GpuOffload& wanted, const MemoryEstimate& need,
                         const std::vector<GpuDevice>& found);

// llama.cpp's own rule (llama_model_base::load_tensors): layer il of `offloadable` goes to the
// device whose share of the cumulative split it falls in. Layers per device.
std::vector<int> layers_per_device(int offloadable, int n_gpu_layers,
                                   const std::vector<float>& split);

// "Vulkan0 (llvmpipe) 3 of 3 layers": for logs and status.
std::string offload_text(const OffloadPlan& plan);

}  // namespace tandem::inference
