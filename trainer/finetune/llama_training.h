// The language model being fine-tuned, through llama.cpp's training API (llama_opt_init,
// llama_opt_epoch): full fine-tuning of every weight llama.cpp marks trainable, one optimiser
// step per window. llama.h stays in the .cpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/llama/chat_template.h"

namespace tandem::finetune {

enum class Optimizer { adamw, sgd };

struct TrainingOptions {
  int context_length = 256;
  int threads = 1;  // ggml's thread pool, at below-normal priority
  double learning_rate = 1e-4;
  Optimizer optimizer = Optimizer::adamw;
};

class LlamaTraining {
 public:
  // Loads `model` (weights writable, not mapped) and prepares training. `base_model` is where
  // the metadata llama.cpp's saver drops (chat template, training context) is copied from when
  // saving. Throws Error naming the file.
  LlamaTraining(const std::filesystem::path& model, const std::filesystem::path& base_model,
                const TrainingOptions& options);
  ~LlamaTraining();
  LlamaTraining(const LlamaTraining&) = delete;
  LlamaTraining& operator=(const LlamaTraining&) = delete;

  // `text` as tokens, with the model's start token when it uses one (`add_start`); `special`
  // reads control tokens written as text (a rendered chat's "<|im_start|>") as those tokens.
  std::vector<std::int32_t> tokenize(const std::string& text, bool add_start,
                                     bool special = false) const;
  // A whole conversation rendered with the model's chat template (or ChatML).
  std::string render_chat(const std::vector<llama::ChatMessage>& messages) const;

  // One optimiser step on the window tokens[0..context] (context + 1 tokens: inputs and the
  // next-token labels). Returns the window's mean cross-entropy loss (nats per token).
  double train_step(const std::int32_t* window);
  // Mean loss over `windows` (each context + 1 tokens) without changing any weight.
  double evaluate(const std::vector<const std::int32_t*>& windows);

  // Writes the model's current weights to `file` atomically (temporary sibling, then rename),
  // with the base model's metadata; the same bytes also to each of `copies`.
  void save(const std::filesystem::path& file,
            const std::vector<std::filesystem::path>& copies = {}) const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace tandem::finetune
