#include "inference/memory_estimate.h"

#include <gguf.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "common/error.h"
#include "common/files.h"

namespace tandem::inference {
namespace {

struct GgufFree {
  void operator()(gguf_context* c) const { gguf_free(c); }
};

std::optional<std::uint64_t> uint_value(const gguf_context* g, const std::string& key) {
  const auto id = gguf_find_key(g, key.c_str());
  if (id < 0) return std::nullopt;
  switch (gguf_get_kv_type(g, id)) {
    case GGUF_TYPE_UINT32:
      return gguf_get_val_u32(g, id);
    case GGUF_TYPE_INT32:
      return static_cast<std::uint64_t>(std::max(0, gguf_get_val_i32(g, id)));
    case GGUF_TYPE_UINT64:
      return gguf_get_val_u64(g, id);
    case GGUF_TYPE_UINT16:
      return gguf_get_val_u16(g, id);
    default:
      return std::nullopt;
  }
}

// The layer a tensor belongs to: "blk.<n>." is layer n, the output's tensors the last one; the
// token embeddings (the input layer) always stay on the CPU.
std::optional<std::size_t> layer_of(const std::string& name, std::size_t n_layer) {
  if (name.rfind("blk.", 0) == 0) {
    std::size_t n = 0;
    std::size_t i = 4;
    for (; i < name.size() && name[i] >= '0' && name[i] <= '9'; ++i) n = n * 10 + (name[i] - '0');
    if (i == 4 || i == name.size() || name[i] != '.' || n >= n_layer) return std::nullopt;
    return n;
  }
  if (name.rfind("output", 0) == 0) return n_layer;  // output.weight, output_norm.*
  return std::nullopt;
}

std::vector<OffloadableLayer> offloadable_layers(const gguf_context* g, std::uint64_t n_layer,
                                                 std::uint64_t kv_cache) {
  std::vector<OffloadableLayer> layers(n_layer + 1);
  if (n_layer == 0) return {};
  bool has_output = false;
  std::uint64_t token_embd = 0;
  for (std::int64_t t = 0; t < gguf_get_n_tensors(g); ++t) {
    const std::string name = gguf_get_tensor_name(g, t);
    const auto size = static_cast<std::uint64_t>(gguf_get_tensor_size(g, t));
    if (name == "token_embd.weight") token_embd = size;
    if (name == "output.weight") has_output = true;
    if (auto layer = layer_of(name, n_layer)) layers[*layer].bytes += size;
  }
  for (std::uint64_t l = 0; l < n_layer; ++l) layers[l].bytes += kv_cache / n_layer;
  if (!has_output) {  // tied embeddings: the output layer takes a copy of them
    layers.back().bytes += token_embd;
    layers.back().leaves_cpu = false;
  }
  return layers;
}

}  // namespace

std::uint64_t MemoryEstimate::offloaded(int n_gpu_layers) const {
  std::uint64_t sum = 0;
  const auto n =
      std::min<std::size_t>(layers.size(), static_cast<std::size_t>(std::max(n_gpu_layers, 0)));
  for (std::size_t i = layers.size() - n; i < layers.size(); ++i) sum += layers[i].bytes;
  return sum;
}

std::uint64_t MemoryEstimate::on_cpu(int n_gpu_layers) const {
  std::uint64_t freed = 0;
  const auto n =
      std::min<std::size_t>(layers.size(), static_cast<std::size_t>(std::max(n_gpu_layers, 0)));
  for (std::size_t i = layers.size() - n; i < layers.size(); ++i) {
    if (layers[i].leaves_cpu) freed += layers[i].bytes;
  }
  return total() - std::min(freed, total());
}

MemoryEstimate estimate_memory(const std::filesystem::path& file, std::uint64_t bytes, int ctx_size,
                               int parallel) {
  gguf_init_params params{};
  params.no_alloc = true;
  std::unique_ptr<gguf_context, GgufFree> g(gguf_init_from_file(path_utf8(file).c_str(), params));
  if (!g) throw Error("cannot read the GGUF header of " + path_utf8(file));
  std::string arch;
  if (const auto id = gguf_find_key(g.get(), "general.architecture"); id >= 0) {
    arch = gguf_get_val_str(g.get(), id);
  }
  const auto layers = uint_value(g.get(), arch + ".block_count").value_or(0);
  const auto embd = uint_value(g.get(), arch + ".embedding_length").value_or(0);
  const auto heads = uint_value(g.get(), arch + ".attention.head_count").value_or(1);
  const auto kv_heads = uint_value(g.get(), arch + ".attention.head_count_kv").value_or(heads);
  const auto head_dim = heads ? embd / std::max<std::uint64_t>(heads, 1) : 0;
  const auto k_dim = uint_value(g.get(), arch + ".attention.key_length").value_or(head_dim);
  const auto v_dim = uint_value(g.get(), arch + ".attention.value_length").value_or(head_dim);
  std::uint64_t vocab = 0;
  if (const auto id = gguf_find_key(g.get(), "tokenizer.ggml.tokens"); id >= 0) {
    vocab = gguf_get_arr_n(g.get(), id);
  }
  const auto cells = static_cast<std::uint64_t>(ctx_size) * static_cast<std::uint64_t>(parallel);
  MemoryEstimate m;
  m.weights = bytes;
  m.kv_cache = layers * cells * kv_heads * (k_dim + v_dim) * 2;  // f16 keys and values
  // Logits for a batch, activations, and llama.cpp's own buffers: a generous allowance.
  m.compute = 64ull * 1024 * 1024 + vocab * 4 * static_cast<std::uint64_t>(parallel) +
              embd * 4 * std::min<std::uint64_t>(cells, 2048) * 8;
  m.layers = offloadable_layers(g.get(), layers, m.kv_cache);
  return m;
}

}  // namespace tandem::inference
