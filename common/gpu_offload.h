// How much of a model goes to GPUs, as llm-server.json and models.json spell it
// (docs/architecture.md#configuration-files): `n_gpu_layers` "auto" or a count of layers,
// `main_gpu` and `devices`. Portable: which devices exist is inference/'s business.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tandem {

// n_gpu_layers: as many layers as fit in free device memory (with headroom), or a count, the
// output layer counting as one more, as llama.cpp counts; 0 keeps the model on the CPU.
inline constexpr int kGpuLayersAuto = -1;
inline constexpr int kMaxGpuLayers = 100000;  // above a model's layers: all of them

struct GpuOffload {
  int n_gpu_layers = kGpuLayersAuto;
  // The one device, by its index among those in use, that takes every offloaded layer; none:
  // the layers are spread over the devices in proportion to their free memory.
  std::optional<int> main_gpu;
  std::vector<std::string> devices;  // ggml device names ("Vulkan0"); empty: every GPU found
};

// The value, or nullopt with `error` saying what was expected.
std::optional<int> parse_gpu_layers(const nlohmann::json& value, std::string& error);

// "auto", "0 (CPU only)", "12": for logs and listings.
std::string gpu_layers_text(int n_gpu_layers);

}  // namespace tandem
