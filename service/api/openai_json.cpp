#include "service/api/openai_json.h"

#include <cmath>
#include <random>

namespace tandem::api {
namespace {

Json token_bytes(std::string_view token) {
  Json bytes = Json::array();
  for (char c : token) bytes.push_back(static_cast<unsigned char>(c));
  return bytes;
}

Json finish_json(std::optional<inference::FinishReason> finish) {
  return finish ? Json(finish_reason_name(*finish)) : Json(nullptr);
}

Json header(const ResponseMeta& meta, std::string_view object) {
  return {{"id", meta.id}, {"object", object}, {"created", meta.created}, {"model", meta.model}};
}

}  // namespace

std::string json_text(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string new_response_id(std::string_view prefix) {
  thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(prefix);
  for (int i = 0; i < 24; ++i) id += kHex[random() % 16];
  return id;
}

std::string_view finish_reason_name(inference::FinishReason reason) {
  switch (reason) {
    case inference::FinishReason::length:
      return "length";
    case inference::FinishReason::tool_calls:
      return "tool_calls";
    case inference::FinishReason::stop:
    case inference::FinishReason::cancelled:
      break;
  }
  return "stop";
}

Json usage_json(int prompt_tokens, int completion_tokens) {
  return {{"prompt_tokens", prompt_tokens},
          {"completion_tokens", completion_tokens},
          {"total_tokens", prompt_tokens + completion_tokens}};
}

Json completion_logprobs(std::span<const inference::Piece> pieces, std::size_t text_offset) {
  Json tokens = Json::array(), token_logprobs = Json::array(), top = Json::array(),
       offsets = Json::array();
  for (const auto& piece : pieces) {
    tokens.push_back(piece.text);
    offsets.push_back(text_offset);
    text_offset += piece.text.size();
    if (std::isnan(piece.logprob)) {  // an echoed prompt's first token: nothing precedes it
      token_logprobs.push_back(nullptr);
      top.push_back(nullptr);
      continue;
    }
    token_logprobs.push_back(piece.logprob);
    Json alternatives = Json::object();
    for (const auto& alt : piece.top) {
      if (!alternatives.contains(alt.token)) alternatives[alt.token] = alt.logprob;
    }
    // As OpenAI does, the chosen token is always there too: up to `logprobs` + 1 entries. A
    // piece of several tokens (one character) has alternatives to its first token only.
    if (piece.tokens == 1 && !alternatives.contains(piece.text)) {
      alternatives[piece.text] = piece.logprob;
    }
    top.push_back(std::move(alternatives));
  }
  return {{"tokens", std::move(tokens)},
          {"token_logprobs", std::move(token_logprobs)},
          {"top_logprobs", std::move(top)},
          {"text_offset", std::move(offsets)}};
}

Json chat_logprobs(std::span<const inference::Piece> pieces) {
  Json content = Json::array();
  for (const auto& piece : pieces) {
    Json top = Json::array();
    for (const auto& alt : piece.top) {
      top.push_back(
          {{"token", alt.token}, {"logprob", alt.logprob}, {"bytes", token_bytes(alt.token)}});
    }
    content.push_back({{"token", piece.text},
                       {"logprob", piece.logprob},
                       {"bytes", token_bytes(piece.text)},
                       {"top_logprobs", std::move(top)}});
  }
  return {{"content", std::move(content)}, {"refusal", nullptr}};
}

Json text_completion(const ResponseMeta& meta, const inference::CompletionResult& result,
                     const Json& logprobs, std::string_view echoed) {
  Json body = header(meta, "text_completion");
  body["choices"] = Json::array({{{"text", std::string(echoed) + result.text},
                                  {"index", 0},
                                  {"logprobs", logprobs},
                                  {"finish_reason", finish_reason_name(result.finish)}}});
  body["usage"] = usage_json(result.prompt_tokens, result.completion_tokens);
  return body;
}

Json chat_completion(const ResponseMeta& meta, const inference::CompletionResult& result,
                     const Json& logprobs, const Json& message) {
  Json body = header(meta, "chat.completion");
  body["choices"] = Json::array({{{"index", 0},
                                  {"message", message},
                                  {"logprobs", logprobs},
                                  {"finish_reason", finish_reason_name(result.finish)}}});
  body["usage"] = usage_json(result.prompt_tokens, result.completion_tokens);
  return body;
}

Json text_completion_chunk(const ResponseMeta& meta, std::string_view text, const Json& logprobs,
                           std::optional<inference::FinishReason> finish) {
  Json body = header(meta, "text_completion");
  body["choices"] = Json::array({{{"text", text},
                                  {"index", 0},
                                  {"logprobs", logprobs},
                                  {"finish_reason", finish_json(finish)}}});
  return body;
}

Json chat_completion_chunk(const ResponseMeta& meta, const Json& delta, const Json& logprobs,
                           std::optional<inference::FinishReason> finish) {
  Json body = header(meta, "chat.completion.chunk");
  body["choices"] = Json::array({{{"index", 0},
                                  {"delta", delta},
                                  {"logprobs", logprobs},
                                  {"finish_reason", finish_json(finish)}}});
  return body;
}

Json usage_chunk(const ResponseMeta& meta, std::string_view object, int prompt_tokens,
                 int completion_tokens) {
  Json body = header(meta, object);
  body["choices"] = Json::array();
  body["usage"] = usage_json(prompt_tokens, completion_tokens);
  return body;
}

}  // namespace tandem::api
