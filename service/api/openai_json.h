// Response bodies in OpenAI's exact shapes: text_completion for /v1/completions,
// chat.completion for /v1/chat/completions, their streamed chunks, and the model list.
// Keys keep OpenAI's order (ordered_json) so the bodies read like OpenAI's.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "inference/completion.h"

namespace tandem::api {

using Json = nlohmann::ordered_json;

// Serialises for the wire; invalid UTF-8 from the model becomes U+FFFD instead of throwing.
std::string json_text(const Json& value);

// "cmpl-…", "chatcmpl-…": the prefix and 24 random hex digits.
std::string new_response_id(std::string_view prefix);

// What every object of one response repeats.
struct ResponseMeta {
  std::string id;
  std::int64_t created = 0;  // Unix seconds
  std::string model;
};

std::string_view finish_reason_name(inference::FinishReason reason);
Json usage_json(int prompt_tokens, int completion_tokens);

// Logprobs of /v1/completions: tokens, token_logprobs, top_logprobs, text_offset (byte offsets,
// the first one `text_offset`). A piece without a logprob (NaN: an echoed prompt's first token)
// has null in token_logprobs and top_logprobs; every other top_logprobs entry holds the chosen
// token besides its alternatives, as OpenAI's do.
Json completion_logprobs(std::span<const inference::Piece> pieces, std::size_t text_offset);
// Logprobs of /v1/chat/completions: {"content":[{token, logprob, bytes, top_logprobs}], ...}.
Json chat_logprobs(std::span<const inference::Piece> pieces);

// `logprobs` is null when they were not asked for. The choice's text is `echoed` (the prompt,
// when the request asked for echo) followed by the generated text.
Json text_completion(const ResponseMeta& meta, const inference::CompletionResult& result,
                     const Json& logprobs, std::string_view echoed = {});
// `message`: the assistant's (ChatAnswer::message), content and any tool calls.
Json chat_completion(const ResponseMeta& meta, const inference::CompletionResult& result,
                     const Json& logprobs, const Json& message);

// One streamed piece (or, with `finish`, the last chunk of the choice).
Json text_completion_chunk(const ResponseMeta& meta, std::string_view text, const Json& logprobs,
                           std::optional<inference::FinishReason> finish);
Json chat_completion_chunk(const ResponseMeta& meta, const Json& delta, const Json& logprobs,
                           std::optional<inference::FinishReason> finish);
// The extra chunk stream_options.include_usage asks for: no choices, only usage.
Json usage_chunk(const ResponseMeta& meta, std::string_view object, int prompt_tokens,
                 int completion_tokens);

}  // namespace tandem::api
