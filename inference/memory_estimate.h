// What loading a model will take, read from its GGUF header before loading: the weights (the
// file), the KV cache of its slots, and a compute allowance. Estimated, as Ollama and LM Studio
// do, so a model that cannot fit is refused with figures instead of thrashing the machine.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace tandem::inference {

struct MemoryEstimate {
  std::uint64_t weights = 0;
  std::uint64_t kv_cache = 0;
  std::uint64_t compute = 0;
  std::uint64_t total() const { return weights + kv_cache + compute; }
};

// `bytes`: the model's files together (a split model's parts). Throws tandem::Error naming the
// file when its header cannot be read.
MemoryEstimate estimate_memory(const std::filesystem::path& file, std::uint64_t bytes, int ctx_size,
                               int parallel);

// "1.5 GiB", "300 MiB": for messages.
std::string memory_text(std::uint64_t bytes);

}  // namespace tandem::inference
