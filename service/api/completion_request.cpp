#include "service/api/completion_request.h"

#include <limits>

#include "service/api/errors.h"
#include "service/api/request_fields.h"

namespace tandem::api {
namespace {

constexpr std::size_t kMaxStops = 16;
constexpr int kMaxTopLogprobs = 20;

void read_stop(const FieldReader& f, inference::SamplingParams& sampling) {
  const nlohmann::json* stop = f.get("stop");
  if (!stop) return;
  auto add = [&](const nlohmann::json& s, const std::string& name) {
    if (!s.is_string()) {
      throw invalid_field(name, "expected a string, got " + json_type_name(s));
    }
    if (s.get_ref<const std::string&>().empty()) throw invalid_field(name, "must not be empty");
    sampling.stop.push_back(s.get<std::string>());
  };
  if (stop->is_string()) {
    add(*stop, f.name("stop"));
    return;
  }
  if (!stop->is_array()) {
    f.fail("stop", "expected a string or an array of strings, got " + json_type_name(*stop));
  }
  if (stop->size() > kMaxStops) {
    f.fail("stop", "at most " + std::to_string(kMaxStops) + " sequences, got " +
                       std::to_string(stop->size()));
  }
  for (std::size_t i = 0; i < stop->size(); ++i) {
    add((*stop)[i], f.name("stop") + "[" + std::to_string(i) + "]");
  }
}

// Fields both endpoints share.
// `min_max_tokens` is 0 where the prompt may only be scored (echo), else 1.
CompletionRequest read_common(const FieldReader& f, const RequestLimits& limits,
                              const char* max_tokens_field, int min_max_tokens = 1) {
  CompletionRequest r;
  r.model = f.string("model").value_or("");
  auto& s = r.sampling;
  s.max_tokens =
      static_cast<int>(f.integer(max_tokens_field, min_max_tokens, limits.max_tokens_limit)
                           .value_or(limits.default_max_tokens));
  s.temperature = static_cast<float>(f.number("temperature", 0, 2).value_or(1.0));
  if (auto top_p = f.number("top_p", 0, 1)) {
    if (*top_p <= 0) f.fail("top_p", "expected a number above 0 and at most 1, got 0");
    s.top_p = static_cast<float>(*top_p);
  }
  // Any 64-bit seed is accepted, as OpenAI does; inference takes 32 bits of it.
  if (auto seed = f.integer("seed", std::numeric_limits<std::int64_t>::min(),
                            std::numeric_limits<std::int64_t>::max())) {
    s.seed = static_cast<std::uint32_t>(static_cast<std::uint64_t>(*seed));
  }
  read_stop(f, s);
  if (auto n = f.integer("n", 1, 128); n && *n != 1) {
    f.fail("n", "only 1 choice per request is supported, got " + std::to_string(*n));
  }
  r.stream = f.boolean("stream").value_or(false);
  if (const nlohmann::json* options = f.get("stream_options")) {
    if (!options->is_object()) {
      f.fail("stream_options", "expected an object, got " + json_type_name(*options));
    }
    r.include_usage =
        FieldReader(*options, "stream_options").boolean("include_usage").value_or(false);
  }
  return r;
}

std::string read_prompt(const FieldReader& f) {
  const nlohmann::json* prompt = f.get("prompt");
  if (!prompt) f.fail("prompt", "required");
  if (prompt->is_string()) return prompt->get<std::string>();
  if (prompt->is_array() && prompt->size() == 1 && (*prompt)[0].is_string()) {
    return (*prompt)[0].get<std::string>();
  }
  if (prompt->is_array() && !prompt->empty() && (*prompt)[0].is_number()) {
    f.fail("prompt", "token arrays are not supported; send the prompt as text");
  }
  if (prompt->is_array()) {
    f.fail("prompt", "expected one string, got an array of " + std::to_string(prompt->size()) +
                         " items (batches are not supported)");
  }
  f.fail("prompt", "expected a string, got " + json_type_name(*prompt));
}

std::string read_content(const FieldReader& m, const std::string& role) {
  const nlohmann::json* content = m.get("content");
  if (!content) {
    if (role == "assistant") return "";  // an assistant turn that only called tools
    m.fail("content", "required");
  }
  if (content->is_string()) return content->get<std::string>();
  if (!content->is_array()) {
    m.fail("content",
           "expected a string or an array of text parts, got " + json_type_name(*content));
  }
  std::string text;
  for (std::size_t i = 0; i < content->size(); ++i) {
    const std::string part_name = m.name("content") + "[" + std::to_string(i) + "]";
    const nlohmann::json& part = (*content)[i];
    if (!part.is_object()) {
      throw invalid_field(part_name, "expected an object, got " + json_type_name(part));
    }
    FieldReader p(part, part_name);
    auto type = p.string("type");
    if (type != "text") {
      p.fail("type", "only 'text' parts are supported, got '" + type.value_or("") + "'");
    }
    auto part_text = p.string("text");
    if (!part_text) p.fail("text", "required");
    text += *part_text;
  }
  return text;
}

std::vector<inference::ChatMessage> read_messages(const FieldReader& f) {
  const nlohmann::json* messages = f.get("messages");
  if (!messages) f.fail("messages", "required");
  if (!messages->is_array() || messages->empty()) {
    f.fail("messages",
           "expected a non-empty array of messages, got " +
               (messages->is_array() ? std::string("an empty array") : json_type_name(*messages)));
  }
  std::vector<inference::ChatMessage> out;
  for (std::size_t i = 0; i < messages->size(); ++i) {
    const std::string name = "messages[" + std::to_string(i) + "]";
    const nlohmann::json& message = (*messages)[i];
    if (!message.is_object()) {
      throw invalid_field(name, "expected an object, got " + json_type_name(message));
    }
    FieldReader m(message, name);
    auto role = m.string("role");
    if (!role) m.fail("role", "required");
    if (*role == "developer") role = "system";  // OpenAI's newer name for the same turn
    if (*role != "system" && *role != "user" && *role != "assistant" && *role != "tool") {
      m.fail("role",
             "expected one of system, developer, user, assistant, tool; got '" + *role + "'");
    }
    out.push_back({*role, read_content(m, *role)});
  }
  return out;
}

}  // namespace

CompletionRequest parse_completion_request(std::string_view body, const RequestLimits& limits) {
  const nlohmann::json root = parse_body(body);
  FieldReader f(root);
  const bool echo = f.boolean("echo").value_or(false);
  if (const nlohmann::json* max = f.get("max_tokens"); !echo && max && *max == 0) {
    f.fail("max_tokens", "expected an integer from 1 to " +
                             std::to_string(limits.max_tokens_limit) +
                             ", got 0 (0 only scores the prompt: it needs \"echo\": true)");
  }
  CompletionRequest r = read_common(f, limits, "max_tokens", echo ? 0 : 1);
  r.sampling.echo = echo;
  if (echo && r.stream) f.fail("echo", "not supported with \"stream\": true");
  r.prompt = read_prompt(f);
  if (auto logprobs = f.integer("logprobs", 0, kMaxTopLogprobs)) {
    r.sampling.top_logprobs = static_cast<int>(*logprobs);
  }
  return r;
}

CompletionRequest parse_chat_request(std::string_view body, const RequestLimits& limits) {
  const nlohmann::json root = parse_body(body);
  FieldReader f(root);
  // The newer name wins when a client sends both.
  const char* max_field = f.get("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
  CompletionRequest r = read_common(f, limits, max_field);
  r.messages = read_messages(f);
  auto top = f.integer("top_logprobs", 0, kMaxTopLogprobs);
  if (f.boolean("logprobs").value_or(false)) {
    r.sampling.top_logprobs = static_cast<int>(top.value_or(0));
  } else if (top) {
    f.fail("top_logprobs", "needs \"logprobs\": true");
  }
  return r;
}

}  // namespace tandem::api
