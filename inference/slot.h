// One sequence of the engine's shared llama.cpp context, as llama-server's server_slot: the
// request it serves, that request's sampling and text, its part of the batch being decoded, and
// the cache its KV sequence holds, kept after the request ends. Owned by the engine's worker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include <llama.h>

#include "inference/generation.h"
#include "inference/prompt_cache.h"
#include "inference/request.h"
#include "inference/sampling.h"

namespace tandem::inference {

static_assert(std::is_same_v<Token, llama_token>);

struct Slot {
  llama_seq_id seq = 0;
  std::unique_ptr<Request> request;  // null while free
  SamplerPtr sampler;
  std::optional<Generation> generation;
  SlotCache cache;                      // cache.tokens: what this sequence's KV cache holds
  std::size_t prompt_fed = 0;           // prompt tokens handed to llama_decode so far
  llama_token next = LLAMA_TOKEN_NULL;  // sampled, still to be decoded
  int generated = 0;
  int32_t output = -1;  // index of this slot's logits in the batch just decoded
  bool in_batch = false;
  bool prompt_done = false;  // its last prompt token was in the batch just decoded
  // A further choice of a request: the index of the slot whose KV sequence it copies once that
  // slot decoded the shared prompt; -1 when the slot feeds its own prompt.
  int copy_from = -1;
  // Batch rows whose logits score a prompt token (echo): row, index of the token they score.
  std::vector<std::pair<int32_t, std::size_t>> echo_rows;

  bool scoring() const { return request && request->scoring(); }

  // Takes `r` up with a fresh sampler and generation; the prompt is fed from the start until
  // resume_from() says how much of it the cache holds.
  void start(std::unique_ptr<Request> r, int n_vocab);
  // The KV cache keeps its first `n` tokens (0: none): the prompt is fed from there, and a scored
  // prompt takes the kept tokens' logprobs from the cache.
  void resume_from(std::size_t n);
  // Before each batch: nothing of it is in the batch yet.
  void begin_step();
  // When the request ends: its prompt's pieces if it was scored in full (a request cancelled
  // mid-prompt has none), which the cache keeps for the next prompt scored from the same start.
  std::vector<Piece> take_scored_prompt();
  // The slot is free again; its cache stays.
  std::unique_ptr<Request> release();
};

}  // namespace tandem::inference
