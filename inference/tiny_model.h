// A tiny random-weight llama-architecture GGUF: real load, tokenize, decode and sample with
// meaningless text. Tests make one in milliseconds; the installer ships one as the default.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace tandem::inference {

struct TinyModelSpec {
  std::uint32_t n_embd = 64;
  std::uint32_t n_layer = 2;
  std::uint32_t n_head = 4;
  std::uint32_t n_ff = 128;
  std::uint32_t n_ctx_train = 4096;
  std::uint32_t seed = 42;
  std::string chat_template;  // Jinja; empty: ChatML
};

// Writes the model to `out`, taking the tokenizer (and nothing else) from `vocab_gguf`, a
// vocab-only GGUF such as llama.cpp's models/ggml-vocab-llama-spm.gguf. Throws tandem::Error.
void make_tiny_model(const std::filesystem::path& vocab_gguf, const std::filesystem::path& out,
                     const TinyModelSpec& spec = {});

// The name every tiny model carries in general.name, so the server can say it is a test model.
inline constexpr const char* kTinyModelName = "tandem-tiny";

}  // namespace tandem::inference
