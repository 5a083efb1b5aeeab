#include "service/api/completion_handlers.h"

#include <ctime>
#include <memory>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "service/api/chat_answer.h"
#include "service/api/errors.h"
#include "service/api/openai_json.h"
#include "service/api/sse.h"

namespace tandem::api {
namespace {

// Everything a streamed response needs after the handler has returned.
struct StreamJob {
  Endpoint endpoint;
  inference::CompletionBackend* backend;
  Metrics* metrics;
  CompletionRequest request;
  std::string prompt;
  ResponseMeta meta;
  std::shared_ptr<const inference::ChatOutputParser> parser;

  bool chat() const { return endpoint == Endpoint::chat; }

  // A chat chunk carries `delta`, a completion chunk `text`.
  Json chunk(std::string_view text, const Json& delta, const Json& logprobs,
             std::optional<inference::FinishReason> finish) const {
    Json c = chat() ? chat_completion_chunk(meta, delta, logprobs, finish)
                    : text_completion_chunk(meta, text, logprobs, finish);
    // With include_usage, OpenAI sends "usage": null on every chunk but the last.
    if (request.include_usage) c["usage"] = nullptr;
    return c;
  }

  void run(const http::ChunkWriter& write) {
    SseWriter sse(write);
    if (chat()) {
      Json first = chat_completion_chunk(meta, {{"role", "assistant"}, {"content", ""}}, nullptr,
                                         std::nullopt);
      if (request.include_usage) first["usage"] = nullptr;
      if (!sse.event(first)) return;
    }
    std::size_t offset = prompt.size();
    ChatAnswer answer(parser);
    inference::CompletionResult result;
    try {
      result = backend->complete(prompt, request.sampling, [&](const inference::Piece& piece) {
        Json logprobs = nullptr;
        if (request.logprobs()) {
          std::span<const inference::Piece> one(&piece, 1);
          logprobs = chat() ? chat_logprobs(one) : completion_logprobs(one, offset);
        }
        offset += piece.text.size();
        const Json delta = chat() ? answer.add(piece.text) : Json();
        // Nothing to show yet (a tool call being written): no chunk, unless it has logprobs.
        if (chat() && delta.empty() && logprobs.is_null()) return sse.open();
        // false frees the slot: the client has gone away.
        return sse.event(chunk(piece.text, delta, logprobs, std::nullopt));
      });
    } catch (...) {
      const ApiError error = to_api_error(std::current_exception());
      metrics->record_error(error.code());
      TLOG(warning) << meta.id
                    << ": streamed request failed after its headers were sent: " << error.what();
      sse.event(error_json(error));
      return;
    }
    metrics->add_tokens(result.prompt_tokens, result.completion_tokens);
    if (!sse.open()) {
      TLOG(debug) << meta.id << ": client went away after " << result.completion_tokens
                  << " tokens; generation cancelled";
      return;
    }
    if (chat()) {
      const Json rest = answer.finish();
      if (!rest.empty() && !sse.event(chunk("", rest, nullptr, std::nullopt))) return;
      if (answer.called_tools() && result.finish == inference::FinishReason::stop) {
        result.finish = inference::FinishReason::tool_calls;
      }
    }
    if (!sse.event(chunk("", Json::object(), nullptr, result.finish))) return;
    if (request.include_usage) {
      std::string_view object = chat() ? "chat.completion.chunk" : "text_completion";
      if (!sse.event(usage_chunk(meta, object, result.prompt_tokens, result.completion_tokens))) {
        return;
      }
    }
    sse.done();
  }
};

}  // namespace

http::Response handle_completion(Endpoint endpoint, const http::Request& request,
                                 const CompletionContext& context) {
  const bool chat = endpoint == Endpoint::chat;
  CompletionRequest parsed = chat ? parse_chat_request(request.body, context.limits)
                                  : parse_completion_request(request.body, context.limits);
  std::string prompt = std::move(parsed.prompt);
  std::shared_ptr<const inference::ChatOutputParser> parser;
  if (chat) {
    inference::ChatPrompt rendered = context.backend.apply_chat(parsed.messages, parsed.chat);
    prompt = std::move(rendered.prompt);
    if (!rendered.grammar.gbnf.empty()) parsed.sampling.grammar = std::move(rendered.grammar);
    for (auto& stop : rendered.stops) parsed.sampling.stop.push_back(std::move(stop));
    parser = std::move(rendered.parser);
  }
  ResponseMeta meta{new_response_id(chat ? "chatcmpl-" : "cmpl-"),
                    static_cast<std::int64_t>(std::time(nullptr)), context.backend.model_id()};

  http::Response response;
  if (parsed.stream) {
    response.content_type = "text/event-stream";
    response.headers["Cache-Control"] = "no-cache";
    auto job = std::make_shared<StreamJob>(StreamJob{endpoint, &context.backend, &context.metrics,
                                                     std::move(parsed), std::move(prompt),
                                                     std::move(meta), std::move(parser)});
    response.stream = [job](const http::ChunkWriter& write) { job->run(write); };
    return response;
  }

  // A client that went away frees its slot at the next token instead of after max_tokens.
  inference::CompletionResult result = context.backend.complete(
      prompt, parsed.sampling, [&](const inference::Piece&) { return !request.client_gone(); });
  context.metrics.add_tokens(result.prompt_tokens, result.completion_tokens);
  if (result.finish == inference::FinishReason::cancelled) {
    TLOG(debug) << meta.id << ": client went away after " << result.completion_tokens
                << " tokens; generation cancelled";
  }
  if (chat) {
    const Json logprobs = parsed.logprobs() ? chat_logprobs(result.pieces) : Json(nullptr);
    ChatAnswer answer(parser);
    const Json message = answer.message(result.text);
    if (answer.called_tools() && result.finish == inference::FinishReason::stop) {
      result.finish = inference::FinishReason::tool_calls;
    }
    response.body = json_text(chat_completion(meta, result, logprobs, message));
    return response;
  }
  const bool echo = parsed.sampling.echo;
  Json logprobs = nullptr;
  if (parsed.logprobs() && echo && !result.prompt_pieces.empty()) {
    // The prompt's tokens first (they join to exactly the prompt), offsets from the echoed text.
    std::vector<inference::Piece> all = std::move(result.prompt_pieces);
    all.insert(all.end(), result.pieces.begin(), result.pieces.end());
    logprobs = completion_logprobs(all, 0);
  } else if (parsed.logprobs()) {
    logprobs = completion_logprobs(result.pieces, prompt.size());
  }
  const std::string_view echoed = echo ? std::string_view(prompt) : std::string_view();
  response.body = json_text(text_completion(meta, result, logprobs, echoed));
  return response;
}

}  // namespace tandem::api
