// llama.cpp behind CompletionBackend: one model, `parallel` slots decoded together in one
// batch by a single worker thread, a bounded wait queue in front of them.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "common/gpu_offload.h"
#include "inference/completion.h"
#include "inference/offload_plan.h"

namespace tandem::inference {

struct EngineOptions {
  std::filesystem::path model;  // GGUF file
  std::string id;               // the name requests use; empty: general.name, else the stem
  int ctx_size = 2048;          // tokens per slot
  int parallel = 2;             // slots
  int queue_limit = 16;         // requests waiting for a slot
  int threads = 0;              // 0: all cores; never above the core count
  // Slot states evicted by other traffic are kept in RAM up to this many MiB and restored for a
  // prompt that starts the same way; 0 disables it.
  int cache_ram_mib = 1024;
  GpuOffload gpu;  // n_gpu_layers ("auto" by default), main_gpu, devices
  // Called once, from the worker, when decoding fails while layers are on a GPU (a lost device
  // fails every later step too): the server exits for the SCM or systemd to restart it.
  std::function<void(const std::string& why)> on_gpu_failure;
};

class Engine final : public CompletionBackend {
 public:
  // Loads the model, as many layers on the GPUs as `options.gpu` asks and fit; throws
  // tandem::Error naming the file if it cannot. A GPU that fails the load (out of memory, lost)
  // is logged and the model loads again on the CPU. `progress` (0..1) is called while loading,
  // e.g. to advance SCM checkpoints.
  explicit Engine(const EngineOptions& options, const std::function<void(float)>& progress = {});
  ~Engine() override;

  std::string model_id() const override;
  bool is_test_model() const override;
  ChatPrompt apply_chat(const std::vector<ChatMessage>& messages,
                        const ChatOptions& options) const override;
  CompletionResult complete(const std::string& prompt, const SamplingParams& params,
                            const PieceCallback& on_piece = {}) override;
  std::vector<CompletionResult> complete_choices(const std::string& prompt,
                                                 const SamplingParams& params, int n,
                                                 const ChoicePieceCallback& on_piece = {}) override;
  Embeddings embed(const std::vector<EmbeddingInput>& inputs) override;
  int embedding_size() const override;
  std::vector<std::int32_t> tokenize(const std::string& text, bool add_special,
                                     bool parse_special = true) const override;
  std::string token_piece(std::int32_t token) const override;
  std::string detokenize(const std::vector<std::int32_t>& tokens) const override;
  Stats stats() const override;
  // Where the model's layers are: the plan it was loaded with (CPU only after a fallback).
  const OffloadPlan& offload() const;

  // Stops taking work, cancels what waits, finishes nothing new; complete() then throws.
  void shutdown();

 private:
  // InputError naming `name[j]` for a token id outside the vocabulary.
  void check_tokens(const std::vector<std::int32_t>& tokens, const std::string& name) const;

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tandem::inference
