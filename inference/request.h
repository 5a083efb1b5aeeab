// One completion request as the engine holds it between complete() and its answer: the prompt's
// tokens, what to do with them, and the promise its caller blocks on.
#pragma once

#include <cstdint>
#include <future>
#include <memory>
#include <vector>

#include "inference/completion.h"

struct llama_sampler;

namespace tandem::inference {

// llama_token, spelled without llama.h so that the queue and the prompt cache stand alone.
using Token = std::int32_t;

struct Request {
  std::vector<Token> prompt;
  // Choices of one request (n > 1) are one Request each, submitted together; choice 0 decodes
  // the prompt, the others copy its KV sequence once it is decoded (llama_memory_seq_cp).
  std::uint64_t group = 0;
  int choice = 0;
  // With echo and logprobs: one per prompt token, texts set here, logprobs as they are decoded.
  std::vector<Piece> prompt_pieces;
  SamplingParams params;
  // params.grammar, parsed and advanced past its prefill; each slot that serves the request
  // samples with a copy. Null without a grammar.
  std::shared_ptr<llama_sampler> grammar;
  const PieceCallback* on_piece = nullptr;  // the caller's, alive while complete() blocks
  std::promise<CompletionResult> done;

  bool scoring() const { return !prompt_pieces.empty(); }
};

// One embeddings request: its inputs' tokens, embedded a batch at a time between decode steps.
struct EmbedRequest {
  std::vector<std::vector<Token>> inputs;
  std::size_t next = 0;  // the first input not embedded yet
  Embeddings result;
  std::promise<Embeddings> done;
};

}  // namespace tandem::inference
