// What loading a model will take, read from its GGUF header before loading: the weights (the
// file), the KV cache of its slots, and a compute allowance. Estimated, as Ollama and LM Studio
// do, so a model that cannot fit is refused with figures instead of thrashing the machine.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tandem::inference {

// One layer llama.cpp can put on a GPU: each repeating layer (its weights and KV cache), then the
// output layer. `n_gpu_layers` k offloads the last k of them.
struct OffloadableLayer {
  std::uint64_t bytes = 0;  // what it takes on the device
  bool leaves_cpu = true;   // false: a copy (tied output embeddings stay on the CPU for the input)
};

struct MemoryEstimate {
  std::uint64_t weights = 0;
  std::uint64_t kv_cache = 0;
  std::uint64_t compute = 0;
  std::vector<OffloadableLayer> layers;  // empty when the header names no tensors by layer
  std::uint64_t total() const { return weights + kv_cache + compute; }
  // What the last `n_gpu_layers` layers take on the devices.
  std::uint64_t offloaded(int n_gpu_layers) const;
  // What stays in RAM with `n_gpu_layers` layers on the devices.
  std::uint64_t on_cpu(int n_gpu_layers) const;
};

// `bytes`: the model's files together (a split model's parts). Throws tandem::Error naming the
// file when its header cannot be read.
MemoryEstimate estimate_memory(const std::filesystem::path& file, std::uint64_t bytes, int ctx_size,
                               int parallel);

}  // namespace tandem::inference
