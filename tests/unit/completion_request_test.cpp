#include "service/api/completion_request.h"

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "service/api/errors.h"

namespace tandem::api {
namespace {

const RequestLimits kLimits{};

// The 400 a body is rejected with; fails the test when it is accepted.
ApiError rejection(const std::function<void()>& parse) {
  try {
    parse();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 400) << e.what();
    EXPECT_EQ(e.type(), "invalid_request_error");
    return e;
  }
  ADD_FAILURE() << "the body was accepted";
  return ApiError(0, "", "", "");
}

ApiError completion_rejection(const std::string& body) {
  return rejection([&] { parse_completion_request(body, kLimits); });
}

ApiError chat_rejection(const std::string& body) {
  return rejection([&] { parse_chat_request(body, kLimits); });
}

// An argument Tandem does not know: OpenAI's wording, named in "param".
void expect_unknown(const ApiError& e, const std::string& field) {
  EXPECT_EQ(
      std::string(e.what()).rfind("unrecognized request argument supplied: '" + field + "'", 0), 0u)
      << e.what();
  EXPECT_EQ(e.param(), field);
  EXPECT_EQ(e.code(), "unknown_argument");
}

// Names the field both in the message and in "param".
void expect_names(const ApiError& e, const std::string& field) {
  EXPECT_NE(std::string(e.what()).find("field '" + field + "'"), std::string::npos) << e.what();
  EXPECT_EQ(e.param(), field);
}

TEST(CompletionRequest, DefaultsForAMinimalBody) {
  auto r = parse_completion_request(R"({"prompt":"Once"})", kLimits);
  EXPECT_EQ(r.prompt, "Once");
  EXPECT_EQ(r.sampling.max_tokens, kLimits.default_max_tokens);
  EXPECT_FLOAT_EQ(r.sampling.temperature, 1.0f);
  EXPECT_FLOAT_EQ(r.sampling.top_p, 1.0f);
  EXPECT_FALSE(r.sampling.seed.has_value());
  EXPECT_TRUE(r.sampling.stop.empty());
  EXPECT_FALSE(r.logprobs());
  EXPECT_FALSE(r.stream);
  EXPECT_FALSE(r.include_usage);
}

TEST(CompletionRequest, ReadsEveryOpenAiField) {
  auto r = parse_completion_request(
      R"({"model":"m","prompt":["Once"],"max_tokens":7,"temperature":0,"top_p":0.5,"seed":42,
          "stop":["\n","END"],"stream":true,"stream_options":{"include_usage":true},
          "logprobs":3,"n":1,"user":"u","frequency_penalty":0.1,"presence_penalty":-0.5,
          "logit_bias":{"17":-100,"3":2.5},"top_k":40,"min_p":0.05,"repeat_penalty":1.1,
          "repeat_last_n":-1})",
      kLimits);
  EXPECT_EQ(r.model, "m");
  EXPECT_EQ(r.prompt, "Once");
  EXPECT_EQ(r.sampling.max_tokens, 7);
  EXPECT_FLOAT_EQ(r.sampling.temperature, 0.0f);
  EXPECT_FLOAT_EQ(r.sampling.top_p, 0.5f);
  EXPECT_EQ(r.sampling.seed, 42u);
  EXPECT_EQ(r.sampling.stop, (std::vector<std::string>{"\n", "END"}));
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  EXPECT_EQ(r.sampling.top_logprobs, 3);
  EXPECT_FLOAT_EQ(r.sampling.frequency_penalty, 0.1f);
  EXPECT_FLOAT_EQ(r.sampling.presence_penalty, -0.5f);
  using Bias = std::vector<std::pair<std::int32_t, float>>;
  EXPECT_EQ(r.sampling.logit_bias, (Bias{{17, -100.0f}, {3, 2.5f}}));
  EXPECT_EQ(r.sampling.top_k, 40);
  EXPECT_FLOAT_EQ(r.sampling.min_p, 0.05f);
  EXPECT_FLOAT_EQ(r.sampling.repeat_penalty, 1.1f);
  EXPECT_EQ(r.sampling.repeat_last_n, -1);
}

TEST(CompletionRequest, SamplerExtensionsDefaultToNeutral) {
  const auto s = parse_completion_request(R"({"prompt":"x"})", kLimits).sampling;
  EXPECT_EQ(s.top_k, 0);
  EXPECT_FLOAT_EQ(s.min_p, 0.0f);
  EXPECT_FLOAT_EQ(s.repeat_penalty, 1.0f);
  EXPECT_FLOAT_EQ(s.presence_penalty, 0.0f);
  EXPECT_FLOAT_EQ(s.frequency_penalty, 0.0f);
  EXPECT_TRUE(s.logit_bias.empty());
}

TEST(CompletionRequest, BadSamplerExtensionsAreNamed) {
  expect_names(completion_rejection(R"({"prompt":"x","presence_penalty":3})"), "presence_penalty");
  expect_names(completion_rejection(R"({"prompt":"x","frequency_penalty":"a"})"),
               "frequency_penalty");
  expect_names(completion_rejection(R"({"prompt":"x","top_k":-1})"), "top_k");
  expect_names(completion_rejection(R"({"prompt":"x","min_p":2})"), "min_p");
  expect_names(completion_rejection(R"({"prompt":"x","repeat_penalty":0})"), "repeat_penalty");
  expect_names(completion_rejection(R"({"prompt":"x","logit_bias":[1]})"), "logit_bias");
  expect_names(completion_rejection(R"({"prompt":"x","logit_bias":{"a":1}})"), "logit_bias");
  expect_names(completion_rejection(R"({"prompt":"x","logit_bias":{"-1":1}})"), "logit_bias");
  expect_names(completion_rejection(R"({"prompt":"x","logit_bias":{"5":101}})"), "logit_bias.5");
}

// OpenAI answers an argument it does not know with a 400 naming it; so does Tandem, and an
// OpenAI argument Tandem does not honour is refused the same way unless it asks for nothing.
TEST(CompletionRequest, AnUnknownArgumentIsRefusedByName) {
  auto e = completion_rejection(R"({"prompt":"x","temprature":0.5})");
  EXPECT_EQ(std::string(e.what()),
            "unrecognized request argument supplied: 'temprature' (did you mean 'temperature'?)");
  EXPECT_EQ(e.param(), "temprature");
  EXPECT_EQ(e.code(), "unknown_argument");
  expect_unknown(completion_rejection(R"({"prompt":"x","stream_options":{"extra":1}})"),
                 "stream_options.extra");
  // A null is absent, as everywhere.
  EXPECT_NO_THROW(parse_completion_request(R"({"prompt":"x","whatever":null})", kLimits));
}

TEST(CompletionRequest, UnhonouredArgumentsAreRefusedUnlessNeutral) {
  expect_names(completion_rejection(R"({"prompt":"x","best_of":3})"), "best_of");
  expect_names(completion_rejection(R"({"prompt":"x","suffix":"end"})"), "suffix");
  auto e = completion_rejection(R"({"prompt":"x","best_of":2})");
  EXPECT_EQ(std::string(e.what()),
            "field 'best_of': is not supported by Tandem yet; only 1 is accepted");
  EXPECT_NO_THROW(parse_completion_request(R"({"prompt":"x","best_of":1,"suffix":""})", kLimits));
}

TEST(ChatRequest, UnhonouredArgumentsAreRefusedUnlessNeutral) {
  const std::string m = R"("messages":[{"role":"user","content":"hi"}])";
  auto chat = [&](const std::string& extra) { return "{" + m + "," + extra + "}"; };
  expect_names(chat_rejection(chat(R"("functions":[{"name":"f"}])")), "functions");
  expect_names(chat_rejection(chat(R"("function_call":"f")")), "function_call");
  expect_names(chat_rejection(chat(R"("store":true)")), "store");
  expect_names(chat_rejection(chat(R"("reasoning_effort":"low")")), "reasoning_effort");
  expect_unknown(chat_rejection(chat(R"("echo":true)")), "echo");  // a completions-only one
  auto e = chat_rejection(chat(R"("functions":[{"name":"f"}])"));
  EXPECT_EQ(std::string(e.what()),
            "field 'functions': is not supported by Tandem yet; only [] is accepted");
  EXPECT_NO_THROW(parse_chat_request(
      chat(R"("response_format":{"type":"text"},"tools":[],"tool_choice":"none",)"
           R"("parallel_tool_calls":true,"store":false,"modalities":["text"],"user":"u")"),
      kLimits));
}

TEST(ChatRequest, UnhonouredMessageFieldsAreRefused) {
  expect_names(chat_rejection(R"({"messages":[{"role":"user","content":"hi","name":"bob"}]})"),
               "messages[0].name");
  expect_names(chat_rejection(R"({"messages":[{"role":"user","content":"hi",)"
                              R"("tool_call_id":"c1"}]})"),
               "messages[0].tool_call_id");
  expect_names(chat_rejection(R"({"messages":[{"role":"user","content":"hi",)"
                              R"("tool_calls":[{"id":"c","function":{"name":"f"}}]}]})"),
               "messages[0].tool_calls");
  expect_unknown(chat_rejection(R"({"messages":[{"role":"user","content":[)"
                                R"({"type":"text","text":"a","cache_control":{}}]}]})"),
                 "messages[0].content[0].cache_control");
  // What the OpenAI SDK sends back of an assistant turn it received: nulls and an empty list.
  EXPECT_NO_THROW(parse_chat_request(
      R"({"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"yo",)"
      R"("refusal":null,"tool_calls":[],"function_call":null}]})",
      kLimits));
}

TEST(ChatRequest, ReadsToolsToolCallsAndResponseFormat) {
  auto r = parse_chat_request(
      R"({"messages":[{"role":"user","content":"hi"},
                      {"role":"assistant","content":null,"tool_calls":[{"id":"c1",
                       "type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},
                      {"role":"tool","tool_call_id":"c1","content":"2"}],
          "tools":[{"type":"function","function":{"name":"f","description":"d",
                    "parameters":{"type":"object"},"strict":true}},
                   {"type":"function","function":{"name":"g"}}],
          "tool_choice":{"type":"function","function":{"name":"g"}},
          "parallel_tool_calls":false})",
      kLimits);
  ASSERT_EQ(r.messages[1].tool_calls.size(), 1u);
  EXPECT_EQ(r.messages[1].tool_calls[0].id, "c1");
  EXPECT_EQ(r.messages[1].tool_calls[0].name, "f");
  EXPECT_EQ(r.messages[1].tool_calls[0].arguments, R"({"a":1})");
  EXPECT_EQ(r.messages[2].tool_call_id, "c1");
  ASSERT_EQ(r.chat.tools.size(), 2u);
  EXPECT_EQ(r.chat.tools[0].description, "d");
  EXPECT_EQ(r.chat.tools[0].parameters, R"({"type":"object"})");
  EXPECT_EQ(r.chat.tool_choice, inference::ToolChoice::function);
  EXPECT_EQ(r.chat.function, "g");
  EXPECT_FALSE(r.chat.parallel_tool_calls);
  EXPECT_FALSE(r.chat.json_schema);

  r = parse_chat_request(R"({"messages":[{"role":"user","content":"hi"}],
      "response_format":{"type":"json_schema","json_schema":{"name":"n","strict":true,
                         "schema":{"type":"object","properties":{"a":{"type":"integer"}}}}}})",
                         kLimits);
  EXPECT_EQ(r.chat.json_schema, R"({"properties":{"a":{"type":"integer"}},"type":"object"})");
  r = parse_chat_request(
      R"({"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_object"}})",
      kLimits);
  EXPECT_EQ(r.chat.json_schema, R"({"type":"object"})");
  r = parse_completion_request(R"({"prompt":"x","grammar":"root ::= \"a\""})", kLimits);
  EXPECT_EQ(r.sampling.grammar.gbnf, R"(root ::= "a")");
  EXPECT_EQ(r.sampling.grammar.field, "grammar");
  expect_names(
      chat_rejection(R"({"messages":[{"role":"user","content":"hi"}],)"
                     R"("response_format":{"type":"json_schema","json_schema":{"name":"n"}}})"),
      "response_format.json_schema.schema");
  expect_names(chat_rejection(R"({"messages":[{"role":"user","content":"hi"}],"grammar":"",)"
                              R"("response_format":{"type":"json_object"}})"),
               "grammar");
}

TEST(ChatRequest, BothMaxTokenNamesAreAcceptedAndTheNewerWins) {
  auto r = parse_chat_request(
      R"({"messages":[{"role":"user","content":"hi"}],"max_tokens":5,"max_completion_tokens":9})",
      kLimits);
  EXPECT_EQ(r.sampling.max_tokens, 9);
}

TEST(CompletionRequest, NullMeansAbsent) {
  auto r = parse_completion_request(
      R"({"prompt":"x","max_tokens":null,"stop":null,"logprobs":null,"seed":null})", kLimits);
  EXPECT_EQ(r.sampling.max_tokens, kLimits.default_max_tokens);
  EXPECT_FALSE(r.logprobs());
  EXPECT_FALSE(r.sampling.seed.has_value());
}

TEST(CompletionRequest, EchoAllowsMaxTokensZero) {
  auto r = parse_completion_request(R"({"prompt":"x","echo":true,"max_tokens":0,"logprobs":0})",
                                    kLimits);
  EXPECT_TRUE(r.sampling.echo);
  EXPECT_EQ(r.sampling.max_tokens, 0);
  EXPECT_TRUE(r.logprobs());
  EXPECT_FALSE(parse_completion_request(R"({"prompt":"x"})", kLimits).sampling.echo);
  auto e = completion_rejection(R"({"prompt":"x","max_tokens":0})");
  EXPECT_EQ(std::string(e.what()),
            "field 'max_tokens': expected an integer from 1 to 4096, got 0 (0 only scores the "
            "prompt: it needs \"echo\": true)");
}

TEST(CompletionRequest, AStopStringAndANegativeSeed) {
  auto r = parse_completion_request(R"({"prompt":"x","stop":"###","seed":-1})", kLimits);
  EXPECT_EQ(r.sampling.stop, std::vector<std::string>{"###"});
  EXPECT_EQ(r.sampling.seed, 0xFFFFFFFFu);
}

TEST(CompletionRequest, MaxTokensOutOfRangeNamesFieldRangeAndValue) {
  auto e = completion_rejection(R"({"prompt":"x","max_tokens":-5})");
  EXPECT_EQ(std::string(e.what()),
            "field 'max_tokens': expected an integer from 1 to 4096, got -5");
  EXPECT_EQ(e.param(), "max_tokens");
}

TEST(CompletionRequest, EachBadFieldIsNamed) {
  expect_names(completion_rejection(R"({"prompt":"x","max_tokens":"10"})"), "max_tokens");
  expect_names(completion_rejection(R"({"prompt":"x","max_tokens":5000})"), "max_tokens");
  expect_names(completion_rejection(R"({"prompt":"x","temperature":2.5})"), "temperature");
  expect_names(completion_rejection(R"({"prompt":"x","temperature":"hot"})"), "temperature");
  expect_names(completion_rejection(R"({"prompt":"x","top_p":0})"), "top_p");
  expect_names(completion_rejection(R"({"prompt":"x","top_p":1.5})"), "top_p");
  expect_names(completion_rejection(R"({"prompt":"x","seed":1.5})"), "seed");
  expect_names(completion_rejection(R"({"prompt":"x","stop":5})"), "stop");
  expect_names(completion_rejection(R"({"prompt":"x","stop":["a",7]})"), "stop[1]");
  expect_names(completion_rejection(R"({"prompt":"x","stop":[""]})"), "stop[0]");
  expect_names(completion_rejection(R"({"prompt":"x","n":0})"), "n");
  expect_names(completion_rejection(R"({"prompt":"x","n":129})"), "n");
  expect_names(completion_rejection(R"({"prompt":"x","stream":"yes"})"), "stream");
  expect_names(completion_rejection(R"({"prompt":"x","stream_options":true})"), "stream_options");
  expect_names(completion_rejection(R"({"prompt":"x","stream_options":{"include_usage":1}})"),
               "stream_options.include_usage");
  expect_names(completion_rejection(R"({"prompt":"x","logprobs":21})"), "logprobs");
  expect_names(completion_rejection(R"({"prompt":"x","logprobs":true})"), "logprobs");
  expect_names(completion_rejection(R"({"prompt":"x","echo":"true"})"), "echo");
  expect_names(completion_rejection(R"({"prompt":"x","echo":true,"stream":true})"), "echo");
  expect_names(completion_rejection(R"({"prompt":"x","max_tokens":0})"), "max_tokens");
  expect_names(completion_rejection(R"({"prompt":"x","model":3})"), "model");
}

TEST(CompletionRequest, AtMostSixteenStops) {
  std::string stops = "[";
  for (int i = 0; i < 17; ++i)
    stops += std::string(i ? "," : "") + "\"s" + std::to_string(i) + "\"";
  auto e = completion_rejection(R"({"prompt":"x","stop":)" + stops + "]}");
  expect_names(e, "stop");
  EXPECT_NE(std::string(e.what()).find("at most 16"), std::string::npos) << e.what();
}

TEST(CompletionRequest, PromptMustBeOneString) {
  expect_names(completion_rejection(R"({"max_tokens":3})"), "prompt");
  expect_names(completion_rejection(R"({"prompt":["a","b"]})"), "prompt");
  expect_names(completion_rejection(R"({"prompt":[1,2,3]})"), "prompt");
  expect_names(completion_rejection(R"({"prompt":{"text":"a"}})"), "prompt");
}

TEST(CompletionRequest, BadJsonSaysWhere) {
  auto e = completion_rejection("{\n  \"prompt\": \"x\",\n  \"max_tokens\": ,\n}");
  EXPECT_EQ(e.code(), "invalid_json");
  const std::string what = e.what();
  EXPECT_NE(what.find("line 3"), std::string::npos) << what;
  EXPECT_NE(what.find("byte"), std::string::npos) << what;
}

// Regression (issue #7): nlohmann ends its input at a NUL byte, so `{...}\0garbage` was served.
TEST(CompletionRequest, ANulByteIsInvalidJsonNamingWhere) {
  auto e = completion_rejection(std::string("{\"prompt\":\"x\"}\0{\"max_tokens\":-1}", 32));
  EXPECT_EQ(e.code(), "invalid_json");
  const std::string what = e.what();
  EXPECT_NE(what.find("NUL byte"), std::string::npos) << what;
  EXPECT_NE(what.find("byte 14"), std::string::npos) << what;
}

TEST(CompletionRequest, InvalidUtf8IsRejected) {
  auto e = completion_rejection("{\"prompt\":\"caf\xC3\x28\"}");
  EXPECT_EQ(e.code(), "invalid_json");
  EXPECT_NE(std::string(e.what()).find("UTF-8"), std::string::npos) << e.what();
}

TEST(CompletionRequest, BodyMustBeAnObject) {
  EXPECT_EQ(completion_rejection("[1,2]").code(), "invalid_json");
  EXPECT_EQ(completion_rejection("").code(), "invalid_json");
}

TEST(ChatRequest, ReadsMessagesAndTextParts) {
  auto r = parse_chat_request(
      R"({"messages":[{"role":"developer","content":"Be brief."},
                      {"role":"user","content":[{"type":"text","text":"Hi "},
                                                {"type":"text","text":"there"}]},
                      {"role":"assistant","content":null,"tool_calls":[]}],
          "max_tokens":9,"max_completion_tokens":5})",
      kLimits);
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[0].role, "system");
  EXPECT_EQ(r.messages[0].content, "Be brief.");
  EXPECT_EQ(r.messages[1].content, "Hi there");
  EXPECT_EQ(r.messages[2].content, "");
  EXPECT_EQ(r.sampling.max_tokens, 5);  // max_completion_tokens wins
}

TEST(ChatRequest, LogprobsIsABooleanWithTopLogprobs) {
  const std::string m = R"("messages":[{"role":"user","content":"x"}])";
  EXPECT_FALSE(parse_chat_request("{" + m + "}", kLimits).logprobs());
  EXPECT_EQ(parse_chat_request("{" + m + R"(,"logprobs":true})", kLimits).sampling.top_logprobs, 0);
  EXPECT_EQ(parse_chat_request("{" + m + R"(,"logprobs":true,"top_logprobs":4})", kLimits)
                .sampling.top_logprobs,
            4);
  expect_names(chat_rejection("{" + m + R"(,"top_logprobs":4})"), "top_logprobs");
  expect_names(chat_rejection("{" + m + R"(,"logprobs":true,"top_logprobs":21})"), "top_logprobs");
  expect_names(chat_rejection("{" + m + R"(,"logprobs":3})"), "logprobs");
  expect_names(chat_rejection("{" + m + R"(,"max_completion_tokens":0})"), "max_completion_tokens");
}

TEST(ChatRequest, EachBadMessageFieldIsNamed) {
  expect_names(chat_rejection(R"({})"), "messages");
  expect_names(chat_rejection(R"({"messages":[]})"), "messages");
  expect_names(chat_rejection(R"({"messages":"hi"})"), "messages");
  expect_names(chat_rejection(R"({"messages":["hi"]})"), "messages[0]");
  expect_names(chat_rejection(R"({"messages":[{"content":"x"}]})"), "messages[0].role");
  expect_names(chat_rejection(R"({"messages":[{"role":"wizard","content":"x"}]})"),
               "messages[0].role");
  expect_names(chat_rejection(R"({"messages":[{"role":"user","content":"a"},{"role":"user"}]})"),
               "messages[1].content");
  expect_names(chat_rejection(R"({"messages":[{"role":"user","content":5}]})"),
               "messages[0].content");
  expect_names(chat_rejection(
                   R"({"messages":[{"role":"user","content":[{"type":"text","text":"a"},
                       {"type":"image_url","image_url":{"url":"x"}}]}]})"),
               "messages[0].content[1].type");
  expect_names(chat_rejection(R"({"messages":[{"role":"user","content":[{"type":"text"}]}]})"),
               "messages[0].content[0].text");
}

}  // namespace
}  // namespace tandem::api
