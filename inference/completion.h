// What the HTTP API asks of inference, independent of llama.cpp: the API's handlers are
// tested against a fake of this interface, the server runs them against inference::Engine.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/llama/chat_template.h"

namespace tandem::inference {

using ChatMessage = llama::ChatMessage;

struct SamplingParams {
  int max_tokens = 16;       // tokens to generate at most (never past the slot's context)
  float temperature = 1.0f;  // 0 means greedy
  float top_p = 1.0f;
  std::optional<std::uint32_t> seed;  // unset: a random seed per request
  std::vector<std::string> stop;      // generation ends before the first of these
  int top_logprobs = -1;              // -1: no logprobs; 0..20: logprob plus that many alternatives
  // Score the prompt too: with logprobs, CompletionResult::prompt_pieces. max_tokens may then be
  // 0 (score only, generate nothing).
  bool echo = false;
  // llama-server's and Ollama's extensions; each at its neutral value leaves the sampler chain as
  // it is without them (so default requests sample exactly as before).
  int top_k = 0;       // 0: off
  float min_p = 0.0f;  // 0: off
  // Penalties over the last `repeat_last_n` tokens (prompt and generated; -1: the whole context):
  // llama.cpp's repeat penalty divides a repeated token's logit, OpenAI's presence and frequency
  // penalties subtract from it once / per occurrence.
  float repeat_penalty = 1.0f;
  int repeat_last_n = 64;
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  std::vector<std::pair<std::int32_t, float>> logit_bias;  // token id, added to its logit
};

struct TokenLogprob {
  std::string token;
  float logprob = 0;
};

// One generated piece of text (one token, or several when a UTF-8 character spans tokens).
struct Piece {
  std::string text;
  float logprob = 0;  // when logprobs were asked for; NaN: none (the first prompt token)
  std::vector<TokenLogprob> top;  // the most likely alternatives, best first
  int tokens = 1;                 // tokens this piece spans (logprob is their sum)
};

enum class FinishReason { stop, length, cancelled };

struct CompletionResult {
  std::string text;
  std::vector<Piece> pieces;  // filled only when logprobs were asked for
  // With echo and logprobs: one piece per prompt token (an added BOS included, with empty text),
  // scored by the logits at the position before it; the first has no logprob (NaN) and no
  // alternatives. Their texts join to exactly the prompt. Empty when generation was cancelled
  // before the whole prompt was scored.
  std::vector<Piece> prompt_pieces;
  FinishReason finish = FinishReason::stop;
  int prompt_tokens = 0;
  int completion_tokens = 0;
};

// Called for each piece as it is generated; return false to cancel (client went away).
using PieceCallback = std::function<bool(const Piece&)>;

// Thrown by complete() when every slot is busy and the queue is full: the API answers 503.
class QueueFull : public Error {
 public:
  using Error::Error;
};

// Thrown for a prompt that cannot fit the slot's context: the API answers 400.
class PromptTooLong : public Error {
 public:
  using Error::Error;
};

class CompletionBackend {
 public:
  virtual ~CompletionBackend() = default;

  virtual std::string model_id() const = 0;  // the name /v1/models reports
  virtual bool is_test_model() const = 0;    // the bundled random-weight model
  virtual std::string apply_chat_template(const std::vector<ChatMessage>& messages) const = 0;

  // Blocks until done; waits for a free slot first (QueueFull when the wait queue is full).
  virtual CompletionResult complete(const std::string& prompt, const SamplingParams& params,
                                    const PieceCallback& on_piece = {}) = 0;

  struct Stats {
    int slots = 0;
    int busy_slots = 0;
    int queued = 0;
    std::uint64_t prompt_tokens = 0;
    std::uint64_t generated_tokens = 0;
  };
  virtual Stats stats() const = 0;
};

}  // namespace tandem::inference
