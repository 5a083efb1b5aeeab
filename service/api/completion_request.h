// The bodies of POST /v1/completions and POST /v1/chat/completions, parsed and validated into
// what inference needs. OpenAI's field names and ranges, and the sampler extensions llama-server
// and Ollama take (top_k, min_p, repeat_penalty, repeat_last_n). Anything invalid, unknown, or
// an OpenAI argument Tandem does not honour is a 400 naming the field: never a silent 200.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "inference/completion.h"

namespace tandem::api {

struct RequestLimits {
  int default_max_tokens = 256;  // when the request names none
  int max_tokens_limit = 4096;   // the most a request may ask for
};

struct CompletionRequest {
  std::string model;                             // as sent; informational only
  std::string prompt;                            // /v1/completions
  std::vector<inference::ChatMessage> messages;  // /v1/chat/completions
  inference::ChatOptions chat;                   // its tools and response_format
  inference::SamplingParams sampling;            // top_logprobs >= 0 when logprobs were asked
  int n = 1;                                     // choices
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool logprobs() const { return sampling.top_logprobs >= 0; }
};

// From the body the API parsed once (parse_body: a JSON object).
CompletionRequest read_completion_request(const nlohmann::json& root, const RequestLimits& limits);
CompletionRequest read_chat_request(const nlohmann::json& root, const RequestLimits& limits);
// The same from the body's text.
CompletionRequest parse_completion_request(std::string_view body, const RequestLimits& limits);
CompletionRequest parse_chat_request(std::string_view body, const RequestLimits& limits);

}  // namespace tandem::api
