// The request validation of POST /v1/completions and /v1/chat/completions: any body either
// parses into values inside the documented ranges or is refused with a 400 ApiError whose
// message is non-empty and names the field at fault (a bad value, or an unknown argument).
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_check.h"
#include "service/api/completion_request.h"
#include "service/api/errors.h"

namespace {

using tandem::api::ApiError;
using tandem::api::CompletionRequest;
using tandem::api::RequestLimits;

void check_error(const ApiError& e, std::string_view body) {
  const std::string message = e.what();
  TANDEM_FUZZ_CHECK(e.status() == 400, std::to_string(e.status()) + " " + message);
  TANDEM_FUZZ_CHECK(!message.empty() && !e.type().empty() && !e.code().empty(), message);
  if (e.code() == "invalid_value") {
    TANDEM_FUZZ_CHECK(!e.param().empty(), message);
    TANDEM_FUZZ_CHECK(message.rfind("field '" + e.param() + "': ", 0) == 0, message);
  } else if (e.code() == "unknown_argument") {
    TANDEM_FUZZ_CHECK(!e.param().empty(), message);
    TANDEM_FUZZ_CHECK(
        message.rfind("unrecognized request argument supplied: '" + e.param() + "'", 0) == 0,
        message);
  } else {
    TANDEM_FUZZ_CHECK(e.code() == "invalid_json", e.code());
  }
  // The answer the client gets is valid JSON in the one error shape, whatever bytes it quotes.
  auto reply =
      nlohmann::json::parse(tandem::api::json_text(tandem::api::error_json(e)), nullptr, false);
  TANDEM_FUZZ_CHECK(!reply.is_discarded() && reply["error"]["message"].is_string() &&
                        reply["error"]["type"].is_string() && reply["error"]["code"].is_string(),
                    std::string(body.substr(0, 200)));
}

void check_request(const CompletionRequest& r, const RequestLimits& limits, bool chat) {
  const auto& s = r.sampling;
  TANDEM_FUZZ_CHECK(s.max_tokens >= (s.echo ? 0 : 1) && s.max_tokens <= limits.max_tokens_limit,
                    std::to_string(s.max_tokens));
  TANDEM_FUZZ_CHECK(s.temperature >= 0 && s.temperature <= 2, std::to_string(s.temperature));
  TANDEM_FUZZ_CHECK(s.top_p > 0 && s.top_p <= 1, std::to_string(s.top_p));
  TANDEM_FUZZ_CHECK(s.top_logprobs >= -1 && s.top_logprobs <= 20, std::to_string(s.top_logprobs));
  TANDEM_FUZZ_CHECK(s.stop.size() <= 16, std::to_string(s.stop.size()));
  for (const auto& stop : s.stop) TANDEM_FUZZ_CHECK(!stop.empty(), "empty stop sequence");
  TANDEM_FUZZ_CHECK(!(s.echo && r.stream), "echo with stream");
  TANDEM_FUZZ_CHECK(r.n >= 1 && r.n <= 128, std::to_string(r.n));
  TANDEM_FUZZ_CHECK(s.presence_penalty >= -2 && s.presence_penalty <= 2,
                    std::to_string(s.presence_penalty));
  TANDEM_FUZZ_CHECK(s.frequency_penalty >= -2 && s.frequency_penalty <= 2,
                    std::to_string(s.frequency_penalty));
  TANDEM_FUZZ_CHECK(s.top_k >= 0 && s.min_p >= 0 && s.min_p <= 1, std::to_string(s.min_p));
  TANDEM_FUZZ_CHECK(s.repeat_penalty > 0 && s.repeat_penalty <= 10,
                    std::to_string(s.repeat_penalty));
  TANDEM_FUZZ_CHECK(s.repeat_last_n >= -1, std::to_string(s.repeat_last_n));
  TANDEM_FUZZ_CHECK(s.logit_bias.size() <= 300, std::to_string(s.logit_bias.size()));
  for (const auto& [token, bias] : s.logit_bias) {
    TANDEM_FUZZ_CHECK(token >= 0 && bias >= -100 && bias <= 100, std::to_string(token));
  }
  TANDEM_FUZZ_CHECK(s.grammar.gbnf.empty() == s.grammar.field.empty(), s.grammar.field);
  if (chat) {
    TANDEM_FUZZ_CHECK(!r.messages.empty(), "chat without messages");
    for (const auto& m : r.messages) {
      TANDEM_FUZZ_CHECK(
          m.role == "system" || m.role == "user" || m.role == "assistant" || m.role == "tool",
          m.role);
      TANDEM_FUZZ_CHECK((m.role == "tool") == !m.tool_call_id.empty(), "tool_call_id");
      TANDEM_FUZZ_CHECK(m.tool_calls.empty() || m.role == "assistant", "tool_calls");
    }
    const auto& c = r.chat;
    const bool calls = !c.tools.empty() && c.tool_choice != tandem::inference::ToolChoice::none;
    TANDEM_FUZZ_CHECK(!(calls && c.json_schema), "response_format with tools");
    TANDEM_FUZZ_CHECK(s.grammar.gbnf.empty() || (!calls && !c.json_schema), "grammar with more");
    bool named = c.tool_choice != tandem::inference::ToolChoice::function;
    for (const auto& t : c.tools) {
      TANDEM_FUZZ_CHECK(!t.name.empty() && t.name.size() <= 64, t.name);
      named = named || t.name == c.function;
    }
    TANDEM_FUZZ_CHECK(named, "tool_choice names no tool");
  }
}

template <typename Parse>
void run(Parse parse, std::string_view body, bool chat) {
  const RequestLimits limits;
  try {
    check_request(parse(body, limits), limits, chat);
  } catch (const ApiError& e) {
    check_error(e, body);
  } catch (const std::exception& e) {
    TANDEM_FUZZ_CHECK(false,
                      std::string("not an ApiError (the server would answer 500): ") + e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  run(tandem::api::parse_completion_request, body, false);
  run(tandem::api::parse_chat_request, body, true);
  return 0;
}
