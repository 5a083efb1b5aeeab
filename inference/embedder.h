// Embeddings, as llama-server computes them: a second llama.cpp context on the engine's model,
// made for pooled embeddings (the model's pooling, mean when it names none, as for a causal
// model), driven by the engine's worker between its decode steps so that generation never waits
// for a whole embeddings request.
#pragma once

#include <memory>

#include <ggml-cpu.h>
#include <llama.h>

#include "inference/model.h"
#include "inference/request.h"

namespace tandem::inference {

class Embedder {
 public:
  // `ctx_size`: the most tokens one input may have, and one batch holds.
  Embedder(const Model& model, int ctx_size, ggml_threadpool* threads, int n_threads);

  int size() const { return n_embd_; }
  int max_tokens() const { return ctx_size_; }
  enum llama_pooling_type pooling() const { return pooling_; }

  // Embeds the next inputs of `request` that fit one batch (at least one): the vectors, L2
  // normalised, are appended to request.result. True once every input is embedded.
  bool step(EmbedRequest& request);

 private:
  struct ContextFree {
    void operator()(llama_context* c) const { llama_free(c); }
  };
  std::unique_ptr<llama_context, ContextFree> ctx_;
  llama_batch batch_{};
  int ctx_size_ = 0;
  int n_embd_ = 0;
  enum llama_pooling_type pooling_ = LLAMA_POOLING_TYPE_MEAN;

 public:
  ~Embedder();
  Embedder(const Embedder&) = delete;
  Embedder& operator=(const Embedder&) = delete;
};

}  // namespace tandem::inference
