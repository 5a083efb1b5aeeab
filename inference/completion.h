// What the HTTP API asks of inference, independent of llama.cpp: the API's handlers are
// tested against a fake of this interface, the server runs them against inference::Engine.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/error.h"
#include "common/llama/chat_template.h"

namespace tandem::inference {

using ChatMessage = llama::ChatMessage;
using ToolCall = llama::ToolCall;

// A function the model may call; `parameters` is the JSON text of its JSON Schema.
struct ChatTool {
  std::string name;
  std::string description;
  std::string parameters;
};

enum class ToolChoice { automatic, none, required, function };

// What a chat request asks of the answer beyond the conversation.
struct ChatOptions {
  std::vector<ChatTool> tools;
  ToolChoice tool_choice = ToolChoice::automatic;
  std::string function;  // the one to call, with ToolChoice::function
  bool parallel_tool_calls = true;
  std::optional<std::string> json_schema;  // the answer is JSON valid against this schema

  // The tools the model may call: all of them, or the one a ToolChoice::function names.
  std::vector<ChatTool> offered() const {
    if (tool_choice != ToolChoice::function) return tools;
    std::vector<ChatTool> one;
    for (const auto& t : tools) {
      if (t.name == function) one.push_back(t);
    }
    return one;
  }
};

// A grammar (GBNF) the generated text must follow. `field` names the request argument it comes
// from, for errors. `prefill` is text the prompt already ends with and the grammar starts with
// (a chat template's opening of the assistant turn). A lazy grammar constrains the output only
// from the first match of a trigger pattern on (a tool call the model chose to start).
struct Grammar {
  std::string gbnf;  // empty: no grammar
  std::string field;
  std::string prefill;
  bool lazy = false;
  std::vector<std::string> trigger_patterns;
};

// What a chat answer says: its text and the tools it called.
struct ChatReply {
  std::string content;
  std::vector<ToolCall> tool_calls;
};

// Reads tool calls back out of the generated text, in the format the prompt asked for.
class ChatOutputParser {
 public:
  virtual ~ChatOutputParser() = default;
  // `partial`: the text so far of an answer still being generated.
  virtual ChatReply parse(const std::string& text, bool partial) const = 0;
};

// A conversation rendered for the model: the prompt, the grammar its answer must follow, and
// how to read that answer (null: the answer is plain content).
struct ChatPrompt {
  std::string prompt;
  Grammar grammar;
  std::vector<std::string> stops;  // the template's own, beside the request's
  std::shared_ptr<const ChatOutputParser> parser;
};

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
  Grammar grammar;
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

enum class FinishReason { stop, length, cancelled, tool_calls };

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
// The same for a request of several choices: `choice` is the index of the one the piece is of.
using ChoicePieceCallback = std::function<bool(int choice, const Piece&)>;

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

// One input of an embeddings request: a text, or the token ids of one.
using EmbeddingInput = std::variant<std::string, std::vector<std::int32_t>>;

struct Embeddings {
  std::vector<std::vector<float>> vectors;  // one per input, in order, each of L2 norm 1
  int prompt_tokens = 0;                    // over all inputs
};

class CompletionBackend {
 public:
  virtual ~CompletionBackend() = default;

  virtual std::string model_id() const = 0;  // the name /v1/models reports
  virtual bool is_test_model() const = 0;    // the bundled random-weight model
  // Renders the conversation with the model's chat template; InputError naming the argument
  // for tools or a schema that cannot apply.
  virtual ChatPrompt apply_chat(const std::vector<ChatMessage>& messages,
                                const ChatOptions& options) const = 0;

  // Blocks until done; waits for a free slot first (QueueFull when the wait queue is full).
  virtual CompletionResult complete(const std::string& prompt, const SamplingParams& params,
                                    const PieceCallback& on_piece = {}) = 0;

  // Pooled (the model's pooling, mean when it names none) and L2-normalised vectors, computed
  // between the decode steps of generation. InputError names `input[i]` for an input that is
  // empty, holds a token id outside the vocabulary, or does not fit the context.
  virtual Embeddings embed(const std::vector<EmbeddingInput>& inputs) = 0;
  virtual int embedding_size() const = 0;  // the vectors' length

  // The vocabulary, as llama-server's /tokenize and /detokenize expose it. `add_special` adds
  // the tokens the model puts around a text (BOS); `parse_special`: special tokens written in
  // `text` become those tokens, else they are plain text.
  virtual std::vector<std::int32_t> tokenize(const std::string& text, bool add_special,
                                             bool parse_special = true) const = 0;
  virtual std::string token_piece(std::int32_t token) const = 0;  // special tokens spelled out
  // InputError naming `tokens[i]` for an id outside the vocabulary.
  virtual std::string detokenize(const std::vector<std::int32_t>& tokens) const = 0;

  // `n` choices of one prompt (1 to Stats::slots: they run at once), the prompt decoded once and
  // shared; with a seed, choice i samples with seed + i. Results in choice order.
  virtual std::vector<CompletionResult> complete_choices(
      const std::string& prompt, const SamplingParams& params, int n,
      const ChoicePieceCallback& on_piece = {}) = 0;

  struct Stats {
    int slots = 0;
    int busy_slots = 0;
    int queued = 0;
    std::uint64_t prompt_tokens = 0;
    std::uint64_t generated_tokens = 0;
    // The RAM prompt cache (cache_ram_mib): prompts restored from it, prompts it did not have,
    // and the bytes of slot states it holds.
    std::uint64_t cache_ram_hits = 0;
    std::uint64_t cache_ram_misses = 0;
    std::uint64_t cache_ram_bytes = 0;
    // Where the model's layers are (n_gpu_layers): of `model_layers` (its layers and the output
    // layer), how many each GPU holds; empty: all on the CPU.
    struct DeviceLayers {
      std::string device;  // "Vulkan0"
      std::string description;
      int layers = 0;
    };
    int model_layers = 0;
    std::vector<DeviceLayers> gpu_layers{};
  };
  virtual Stats stats() const = 0;
};

}  // namespace tandem::inference
