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

// A body or chunk of one choice as the choice `index` of a response of several.
Json as_choice(Json body, int index) {
  if (!body["choices"].empty()) body["choices"][0]["index"] = index;
  return body;
}

// Completion tokens over all choices; the prompt counts once (it was decoded once).
int completion_tokens(const std::vector<inference::CompletionResult>& results) {
  int total = 0;
  for (const auto& r : results) total += r.completion_tokens;
  return total;
}

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
  Json chunk(int index, std::string_view text, const Json& delta, const Json& logprobs,
             std::optional<inference::FinishReason> finish) const {
    Json c = chat() ? chat_completion_chunk(meta, delta, logprobs, finish)
                    : text_completion_chunk(meta, text, logprobs, finish);
    // With include_usage, OpenAI sends "usage": null on every chunk but the last.
    if (request.include_usage) c["usage"] = nullptr;
    return as_choice(std::move(c), index);
  }

  void run(const http::ChunkWriter& write) {
    SseWriter sse(write);
    for (int i = 0; chat() && i < request.n; ++i) {
      Json first = chat_completion_chunk(meta, {{"role", "assistant"}, {"content", ""}}, nullptr,
                                         std::nullopt);
      if (request.include_usage) first["usage"] = nullptr;
      if (!sse.event(as_choice(std::move(first), i))) return;
    }
    std::vector<std::size_t> offsets(static_cast<std::size_t>(request.n), prompt.size());
    std::vector<ChatAnswer> answers(static_cast<std::size_t>(request.n), ChatAnswer(parser));
    std::vector<inference::CompletionResult> results;
    try {
      results = backend->complete_choices(
          prompt, request.sampling, request.n, [&](int choice, const inference::Piece& piece) {
            const auto i = static_cast<std::size_t>(choice);
            Json logprobs = nullptr;
            if (request.logprobs()) {
              std::span<const inference::Piece> one(&piece, 1);
              logprobs = chat() ? chat_logprobs(one) : completion_logprobs(one, offsets.at(i));
            }
            offsets.at(i) += piece.text.size();
            const Json delta = chat() ? answers.at(i).add(piece.text) : Json();
            // Nothing to show yet (a tool call being written): no chunk, unless it has logprobs.
            if (chat() && delta.empty() && logprobs.is_null()) return sse.open();
            // false frees the slot: the client has gone away.
            return sse.event(chunk(choice, piece.text, delta, logprobs, std::nullopt));
          });
    } catch (...) {
      const ApiError error = to_api_error(std::current_exception());
      metrics->record_error(error.code());
      TLOG(warning) << meta.id
                    << ": streamed request failed after its headers were sent: " << error.what();
      sse.event(error_json(error));
      return;
    }
    const int prompt_tokens = results.front().prompt_tokens;
    const int generated = completion_tokens(results);
    metrics->add_tokens(prompt_tokens, generated);
    if (!sse.open()) {
      TLOG(debug) << meta.id << ": client went away after " << generated
                  << " tokens; generation cancelled";
      return;
    }
    for (std::size_t i = 0; i < results.size(); ++i) {
      const int index = static_cast<int>(i);
      if (chat()) {
        const Json rest = answers[i].finish();
        if (!rest.empty() && !sse.event(chunk(index, "", rest, nullptr, std::nullopt))) return;
        if (answers[i].called_tools() && results[i].finish == inference::FinishReason::stop) {
          results[i].finish = inference::FinishReason::tool_calls;
        }
      }
      if (!sse.event(chunk(index, "", Json::object(), nullptr, results[i].finish))) return;
    }
    if (request.include_usage) {
      std::string_view object = chat() ? "chat.completion.chunk" : "text_completion";
      if (!sse.event(usage_chunk(meta, object, prompt_tokens, generated))) return;
    }
    sse.done();
  }
};

// The assistant's message read through the prompt's parser: content and any tool calls.
Json chat_body(const ResponseMeta& meta, inference::CompletionResult result,
               const CompletionRequest& parsed,
               const std::shared_ptr<const inference::ChatOutputParser>& parser) {
  const Json logprobs = parsed.logprobs() ? chat_logprobs(result.pieces) : Json(nullptr);
  ChatAnswer answer(parser);
  const Json message = answer.message(result.text);
  if (answer.called_tools() && result.finish == inference::FinishReason::stop) {
    result.finish = inference::FinishReason::tool_calls;
  }
  return chat_completion(meta, result, logprobs, message);
}

// `first` is choice 0, which alone scored an echoed prompt (the choices share it).
Json text_body(const ResponseMeta& meta, const inference::CompletionResult& result,
               const CompletionRequest& parsed, const inference::CompletionResult& first,
               const std::string& prompt) {
  const bool echo = parsed.sampling.echo;
  Json logprobs = nullptr;
  if (parsed.logprobs() && echo && !first.prompt_pieces.empty()) {
    // The prompt's tokens first (they join to exactly the prompt), offsets from the echoed text.
    std::vector<inference::Piece> all = first.prompt_pieces;
    all.insert(all.end(), result.pieces.begin(), result.pieces.end());
    logprobs = completion_logprobs(all, 0);
  } else if (parsed.logprobs()) {
    logprobs = completion_logprobs(result.pieces, prompt.size());
  }
  const std::string_view echoed = echo ? std::string_view(prompt) : std::string_view();
  return text_completion(meta, result, logprobs, echoed);
}

}  // namespace

http::Response handle_completion(Endpoint endpoint, const http::Request& request,
                                 const nlohmann::json& request_body,
                                 const CompletionContext& context) {
  const bool chat = endpoint == Endpoint::chat;
  CompletionRequest parsed = chat ? read_chat_request(request_body, context.limits)
                                  : read_completion_request(request_body, context.limits);
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
  // The choices run at once, one slot each: checked before a stream's headers go out.
  if (const int slots = context.backend.stats().slots; parsed.n > slots) {
    throw invalid_field("n", "at most " + std::to_string(slots) +
                                 " choices (the server's parallel slots), got " +
                                 std::to_string(parsed.n));
  }

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
  std::vector<inference::CompletionResult> results = context.backend.complete_choices(
      prompt, parsed.sampling, parsed.n,
      [&](int, const inference::Piece&) { return !request.client_gone(); });
  const int prompt_tokens = results.front().prompt_tokens;
  const int generated = completion_tokens(results);
  context.metrics.add_tokens(prompt_tokens, generated);
  if (results.front().finish == inference::FinishReason::cancelled) {
    TLOG(debug) << meta.id << ": client went away after " << generated
                << " tokens; generation cancelled";
  }
  Json body;
  for (std::size_t i = 0; i < results.size(); ++i) {
    Json one = chat ? chat_body(meta, results[i], parsed, parser)
                    : text_body(meta, results[i], parsed, results.front(), prompt);
    if (i == 0) {
      body = std::move(one);
    } else {
      body["choices"].push_back(as_choice(std::move(one), static_cast<int>(i))["choices"][0]);
    }
  }
  body["usage"] = usage_json(prompt_tokens, generated);
  response.body = json_text(body);
  return response;
}

}  // namespace tandem::api
