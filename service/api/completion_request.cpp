#include "service/api/completion_request.h"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <limits>
#include <span>
#include <string_view>

#include "service/api/chat_options.h"
#include "service/api/errors.h"
#include "service/api/model_choice.h"
#include "service/api/request_fields.h"

namespace tandem::api {
namespace {

constexpr std::size_t kMaxStops = 16;
constexpr int kMaxTopLogprobs = 20;
constexpr std::size_t kMaxLogitBias = 300;  // OpenAI's limit

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

// logit_bias: {"token id": bias from -100 to 100}, as OpenAI takes it. Ids beyond the model's
// vocabulary are refused by inference, which knows its size.
void read_logit_bias(const FieldReader& f, inference::SamplingParams& sampling) {
  const nlohmann::json* bias = f.get("logit_bias");
  if (!bias) return;
  if (!bias->is_object()) {
    f.fail("logit_bias",
           "expected an object of token ids to numbers, got " + json_type_name(*bias));
  }
  if (bias->size() > kMaxLogitBias) {
    f.fail("logit_bias", "at most " + std::to_string(kMaxLogitBias) + " tokens, got " +
                             std::to_string(bias->size()));
  }
  const FieldReader entries(*bias, f.name("logit_bias"));
  for (const auto& [key, value] : bias->items()) {
    std::int32_t token = -1;
    const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), token);
    if (ec != std::errc() || end != key.data() + key.size() || token < 0) {
      f.fail("logit_bias", "keys must be token ids (whole numbers from 0), got '" + key + "'");
    }
    if (value.is_null()) continue;
    const double b = *entries.number(key, -100, 100);
    sampling.logit_bias.emplace_back(token, static_cast<float>(b));
  }
}

// OpenAI's penalties and the sampler options llama-server and Ollama users send.
void read_sampler_options(const FieldReader& f, inference::SamplingParams& s) {
  s.presence_penalty = static_cast<float>(f.number("presence_penalty", -2, 2).value_or(0));
  s.frequency_penalty = static_cast<float>(f.number("frequency_penalty", -2, 2).value_or(0));
  read_logit_bias(f, s);
  s.top_k = static_cast<int>(f.integer("top_k", 0, 1 << 20).value_or(0));
  s.min_p = static_cast<float>(f.number("min_p", 0, 1).value_or(0));
  if (auto repeat = f.number("repeat_penalty", 0, 10)) {
    if (*repeat <= 0) f.fail("repeat_penalty", "expected a number above 0 and at most 10, got 0");
    s.repeat_penalty = static_cast<float>(*repeat);
  }
  s.repeat_last_n = static_cast<int>(f.integer("repeat_last_n", -1, 1 << 20).value_or(64));
}

// Arguments OpenAI defines that Tandem does not honour (yet). Each is accepted only at the value
// that asks for nothing (what some clients send by default); any other value is refused by name,
// never dropped with a 200.
struct Unhonoured {
  std::string_view key;
  std::string_view neutral;  // JSON of the values accepted, for the message; "" when none is
  bool (*is_neutral)(const nlohmann::json&);
};

bool is_empty_container(const nlohmann::json& v) {
  return (v.is_array() || v.is_object()) && v.empty();
}
bool is_false(const nlohmann::json& v) {
  return v == false;
}
bool is_one(const nlohmann::json& v) {
  return v == 1;
}
bool is_empty_string(const nlohmann::json& v) {
  return v == "";
}
bool is_text_modality(const nlohmann::json& v) {
  return v == nlohmann::json::array({"text"});
}
bool is_no_tool_choice(const nlohmann::json& v) {
  return v == "none" || v == "auto";
}
bool is_default_tier(const nlohmann::json& v) {
  return v == "auto" || v == "default";
}
bool never(const nlohmann::json&) {
  return false;
}

constexpr Unhonoured kUnhonouredArguments[] = {
    {"functions", "[]", is_empty_container},
    {"function_call", R"("none" or "auto" without functions)", is_no_tool_choice},
    {"best_of", "1", is_one},
    {"suffix", R"("")", is_empty_string},
    {"store", "false", is_false},
    {"metadata", "{}", is_empty_container},
    {"service_tier", R"("auto" or "default")", is_default_tier},
    {"modalities", R"(["text"])", is_text_modality},
    {"audio", "", never},
    {"prediction", "", never},
    {"reasoning_effort", "", never},
    {"verbosity", "", never},
    {"web_search_options", "", never},
};

// The same for the fields of one message: tool calls and their results need tools.
constexpr Unhonoured kUnhonouredMessageFields[] = {
    {"function_call", "", never},
    {"name", "", never},
};

// Refuses what no reader above took: an unhonoured OpenAI argument with a value that asks for
// something, or an argument Tandem does not know (OpenAI's own "unrecognized request argument").
void refuse_unread(const FieldReader& f, std::span<const Unhonoured> unhonoured = {}) {
  for (const std::string& key : f.unread()) {
    auto known = std::find_if(unhonoured.begin(), unhonoured.end(),
                              [&](const Unhonoured& u) { return u.key == key; });
    if (known == unhonoured.end()) f.refuse_unknown(key);
    if (known->is_neutral(*f.get(key))) continue;
    f.fail(key, known->neutral.empty() ? std::string("is not supported by Tandem")
                                       : "is not supported by Tandem yet; only " +
                                             std::string(known->neutral) + " is accepted");
  }
}

// Fields both endpoints share.
// `min_max_tokens` is 0 where the prompt may only be scored (echo), else 1.
CompletionRequest read_common(const FieldReader& f, const RequestLimits& limits,
                              const char* max_tokens_field, int min_max_tokens = 1) {
  CompletionRequest r;
  take_model_choice(f);
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
  read_sampler_options(f, s);
  f.string("user");  // the caller's end-user id: OpenAI uses it for abuse monitoring, no output
  // Bounded by the server's slots when the request runs (the choices run at once).
  r.n = static_cast<int>(f.integer("n", 1, 128).value_or(1));
  r.stream = f.boolean("stream").value_or(false);
  if (const nlohmann::json* options = f.get("stream_options")) {
    if (!options->is_object()) {
      f.fail("stream_options", "expected an object, got " + json_type_name(*options));
    }
    const FieldReader o(*options, "stream_options");
    r.include_usage = o.boolean("include_usage").value_or(false);
    refuse_unread(o);
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
    refuse_unread(p);
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
    inference::ChatMessage msg{*role, read_content(m, *role), {}, {}};
    if (m.get("tool_calls")) {
      if (*role != "assistant") m.fail("tool_calls", "only an assistant message has tool calls");
      msg.tool_calls = read_tool_calls(m);
    }
    if (auto id = m.string("tool_call_id")) {
      if (*role != "tool") m.fail("tool_call_id", "only a 'tool' message answers a tool call");
      msg.tool_call_id = *id;
    } else if (*role == "tool") {
      m.fail("tool_call_id", "required in a 'tool' message: the id of the call it answers");
    }
    out.push_back(std::move(msg));
    refuse_unread(m, kUnhonouredMessageFields);
  }
  return out;
}

}  // namespace

CompletionRequest read_completion_request(const nlohmann::json& root, const RequestLimits& limits) {
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
  r.sampling.grammar = read_grammar(f);
  if (auto logprobs = f.integer("logprobs", 0, kMaxTopLogprobs)) {
    r.sampling.top_logprobs = static_cast<int>(*logprobs);
  }
  refuse_unread(f, kUnhonouredArguments);
  return r;
}

CompletionRequest read_chat_request(const nlohmann::json& root, const RequestLimits& limits) {
  FieldReader f(root);
  // The newer name wins when a client sends both.
  const bool newer = f.get("max_completion_tokens") != nullptr;
  const char* max_field = newer ? "max_completion_tokens" : "max_tokens";
  if (newer) f.get("max_tokens");  // taken as read: the newer name's value is the one used
  CompletionRequest r = read_common(f, limits, max_field);
  r.messages = read_messages(f);
  r.chat = read_chat_options(f);
  r.sampling.grammar = read_grammar(f, r.chat);
  auto top = f.integer("top_logprobs", 0, kMaxTopLogprobs);
  if (f.boolean("logprobs").value_or(false)) {
    r.sampling.top_logprobs = static_cast<int>(top.value_or(0));
  } else if (top) {
    f.fail("top_logprobs", "needs \"logprobs\": true");
  }
  refuse_unread(f, kUnhonouredArguments);
  return r;
}

CompletionRequest parse_completion_request(std::string_view body, const RequestLimits& limits) {
  return read_completion_request(parse_body(body), limits);
}

CompletionRequest parse_chat_request(std::string_view body, const RequestLimits& limits) {
  return read_chat_request(parse_body(body), limits);
}

}  // namespace tandem::api
