#include "inference/tiny_model.h"

#include <memory>
#include <string>
#include <vector>

#include <ggml-backend.h>
#include <ggml.h>
#include <gguf.h>
#include <llama.h>

#include "common/error.h"
#include "common/files.h"
#include "common/llama/llama_backend.h"

namespace tandem::inference {
namespace {

struct GgufFree {
  void operator()(gguf_context* c) const { gguf_free(c); }
};
struct ModelFree {
  void operator()(llama_model* m) const { llama_model_free(m); }
};
using GgufPtr = std::unique_ptr<gguf_context, GgufFree>;
using ModelPtr = std::unique_ptr<llama_model, ModelFree>;

// ChatML, which llama.cpp recognises, so the server's chat path uses a real model template.
constexpr const char* kChatTemplate =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\\n' }}{% endif %}";

void fill_tensor(ggml_tensor* tensor, void* userdata) {
  const auto seed = *static_cast<const std::uint32_t*>(userdata);
  const std::string name = ggml_get_name(tensor);
  // splitmix64: uniform weights in [-0.035, 0.035) (std ~0.02), fast enough that a model of
  // several million weights is made in milliseconds even in sanitizer builds.
  std::uint64_t state = seed ^ std::hash<std::string>{}(name);
  auto next = [&state] {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  const auto n = static_cast<std::size_t>(ggml_nelements(tensor));
  std::vector<float> values(n, 1.0f);
  if (name.find("norm") == std::string::npos) {
    for (auto& v : values) v = (static_cast<float>(next() >> 40) / 16777216.0f - 0.5f) * 0.07f;
  }
  if (tensor->type == GGML_TYPE_F32) {
    ggml_backend_tensor_set(tensor, values.data(), 0, ggml_nbytes(tensor));
  } else {
    std::vector<ggml_fp16_t> half(n);
    ggml_fp32_to_fp16_row(values.data(), half.data(), static_cast<std::int64_t>(n));
    ggml_backend_tensor_set(tensor, half.data(), 0, ggml_nbytes(tensor));
  }
}

// llama.cpp's model saver writes only the keys it knows, which excludes the chat template:
// add it by rewriting the metadata and keeping the (aligned) tensor data section as it is.
void add_chat_template(const std::filesystem::path& file, const std::string& chat_template) {
  gguf_init_params params{/*no_alloc=*/true, /*ctx=*/nullptr};
  GgufPtr gguf(gguf_init_from_file(path_utf8(file).c_str(), params));
  if (!gguf) throw Error("cannot reopen " + path_utf8(file));
  const std::size_t data_offset = gguf_get_data_offset(gguf.get());
  gguf_set_val_str(gguf.get(), "tokenizer.chat_template",
                   chat_template.empty() ? kChatTemplate : chat_template.c_str());
  std::string out(gguf_get_meta_size(gguf.get()), '\0');
  gguf_get_meta_data(gguf.get(), out.data());
  const std::string original = read_file(file);
  out.append(original, data_offset, std::string::npos);
  write_file_atomically(file, out);
}

}  // namespace

void make_tiny_model(const std::filesystem::path& vocab_gguf, const std::filesystem::path& out,
                     const TinyModelSpec& spec) {
  llama::ensure_llama_backend();
  gguf_init_params params{/*no_alloc=*/true, /*ctx=*/nullptr};
  GgufPtr vocab(gguf_init_from_file(path_utf8(vocab_gguf).c_str(), params));
  if (!vocab) throw Error("cannot read vocab GGUF " + path_utf8(vocab_gguf));
  const std::int64_t tokens_key = gguf_find_key(vocab.get(), "tokenizer.ggml.tokens");
  if (tokens_key < 0) throw Error(path_utf8(vocab_gguf) + " has no tokenizer.ggml.tokens");
  const auto n_vocab = static_cast<std::uint32_t>(gguf_get_arr_n(vocab.get(), tokens_key));

  GgufPtr meta(gguf_init_empty());
  gguf_set_kv(meta.get(), vocab.get());
  gguf_set_val_str(meta.get(), "general.architecture", "llama");
  gguf_set_val_str(meta.get(), "general.name", kTinyModelName);
  gguf_set_val_u32(meta.get(), "llama.vocab_size", n_vocab);
  gguf_set_val_u32(meta.get(), "llama.context_length", spec.n_ctx_train);
  gguf_set_val_u32(meta.get(), "llama.embedding_length", spec.n_embd);
  gguf_set_val_u32(meta.get(), "llama.block_count", spec.n_layer);
  gguf_set_val_u32(meta.get(), "llama.feed_forward_length", spec.n_ff);
  gguf_set_val_u32(meta.get(), "llama.attention.head_count", spec.n_head);
  gguf_set_val_u32(meta.get(), "llama.attention.head_count_kv", spec.n_head);
  gguf_set_val_u32(meta.get(), "llama.rope.dimension_count", spec.n_embd / spec.n_head);
  gguf_set_val_f32(meta.get(), "llama.attention.layer_norm_rms_epsilon", 1e-5f);
  gguf_set_val_f32(meta.get(), "llama.rope.freq_base", 10000.0f);

  llama_model_params mp = llama_model_default_params();
  mp.progress_callback = [](float, void*) { return true; };
  std::uint32_t seed = spec.seed;
  ModelPtr model(llama_model_init_from_user(meta.get(), fill_tensor, &seed, mp));
  if (!model) throw Error("llama.cpp could not build the tiny model from " + path_utf8(vocab_gguf));
  llama_model_save_to_file(model.get(), path_utf8(out).c_str());
  if (!std::filesystem::exists(out)) throw Error("llama.cpp did not write " + path_utf8(out));
  add_chat_template(out, spec.chat_template);
}

}  // namespace tandem::inference
