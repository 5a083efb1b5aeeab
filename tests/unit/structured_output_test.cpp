// Structured output and tools on the real tiny model, through the API: whatever the random
// weights say, a grammar keeps the answer valid — JSON valid against the request's schema, tool
// calls whose arguments follow the tool's schema — and what cannot apply is refused by name.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/files.h"
#include "inference/engine.h"
#include "service/api/api.h"
#include "tests/support/api_calls.h"
#include "tests/support/json_schema_check.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tiny_model.h"

namespace tandem::api {
namespace {

using nlohmann::json;
using namespace tandem::testing;

// Nested, with enums, an array of objects, bounded strings and required fields. Every string is
// bounded (enum or maxLength): an unbounded one lets random weights write until max_tokens.
const json kOrderSchema = json::parse(R"({
  "type": "object",
  "properties": {
    "size": {"enum": ["small", "medium", "large"]},
    "count": {"type": "integer"},
    "gift": {"type": "boolean"},
    "note": {"type": "string", "maxLength": 6},
    "items": {"type": "array", "minItems": 1, "maxItems": 3,
              "items": {"type": "object",
                        "properties": {"kind": {"enum": ["tea", "cake"]},
                                       "hot": {"type": "boolean"}},
                        "required": ["kind", "hot"]}}
  },
  "required": ["size", "count", "items", "gift"]
})");

const json kWeatherTool = json::parse(R"({"type": "function", "function": {
  "name": "get_weather", "description": "The weather in a city",
  "parameters": {"type": "object",
                 "properties": {"city": {"enum": ["Paris", "Oslo", "Lima"]},
                                "days": {"type": "integer"}},
                 "required": ["city", "days"]}}})");
const json kTimeTool = json::parse(R"({"type": "function", "function": {
  "name": "get_time", "parameters": {"type": "object",
  "properties": {"zone": {"enum": ["UTC", "CET"]}}, "required": ["zone"]}}})");

class StructuredOutput : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    inference::EngineOptions o;
    o.model = tiny_model_path();
    o.parallel = 1;
    o.ctx_size = 1024;
    o.threads = 1;
    engine_ = std::make_unique<inference::Engine>(o);
  }
  static void TearDownTestSuite() { engine_.reset(); }

  static json chat(json body) {
    body["messages"] =
        body.value("messages", json::array({{{"role", "user"}, {"content", "Order something."}}}));
    body["max_tokens"] = body.value("max_tokens", 300);
    auto r = api().handle(post("/v1/chat/completions", body.dump()));
    EXPECT_EQ(r.status, 200) << r.body;
    return body_of(r);
  }
  static Api& api() {
    static Api a{engine_.get(), ApiOptions{"i", "", RequestLimits{256, 4096}, {}}};
    return a;
  }
  static std::unique_ptr<inference::Engine> engine_;
};
std::unique_ptr<inference::Engine> StructuredOutput::engine_;

TEST_F(StructuredOutput, AJsonSchemaAnswerIsValidAgainstIt) {
  for (const json& seed : {json(nullptr), json(1), json(2), json(3)}) {
    json body = {
        {"response_format",
         {{"type", "json_schema"},
          {"json_schema", {{"name", "order"}, {"strict", true}, {"schema", kOrderSchema}}}}}};
    if (seed.is_null()) {
      body["temperature"] = 0;
    } else {
      body["seed"] = seed;
      body["temperature"] = 1.0;
    }
    const json b = chat(body);
    const json& choice = b["choices"][0];
    EXPECT_EQ(choice["finish_reason"], "stop") << b.dump();
    const std::string content = choice["message"]["content"];
    const json answer = json::parse(content, nullptr, false);
    ASSERT_FALSE(answer.is_discarded()) << "seed " << seed << ": not JSON: " << content;
    EXPECT_EQ(schema_violation(answer, kOrderSchema), "") << content;
  }
}

TEST_F(StructuredOutput, JsonModeAnswersAnObject) {
  // Free strings may run past any budget with random weights: then the answer is cut (length),
  // but still starts as an object.
  json body = {
      {"response_format", {{"type", "json_object"}}}, {"temperature", 0}, {"max_tokens", 48}};
  const json b = chat(body);
  const std::string content = b["choices"][0]["message"]["content"];
  if (b["choices"][0]["finish_reason"] == "stop") {
    const json answer = json::parse(content, nullptr, false);
    ASSERT_FALSE(answer.is_discarded()) << content;
    EXPECT_TRUE(answer.is_object()) << content;
  } else {
    EXPECT_EQ(content.front(), '{') << content;
  }
}

TEST_F(StructuredOutput, AGbnfGrammarShapesACompletion) {
  auto r = api().handle(post("/v1/completions", json{{"prompt", "Answer:"},
                                                     {"grammar", R"(root ::= ("yes" | "no") "!")"},
                                                     {"max_tokens", 20},
                                                     {"temperature", 1.0},
                                                     {"seed", 7}}
                                                    .dump()));
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string text = body_of(r)["choices"][0]["text"];
  EXPECT_TRUE(text == "yes!" || text == "no!") << text;
}

TEST_F(StructuredOutput, ABrokenGrammarOrSchemaIsRefusedByName) {
  auto r = api().handle(
      post("/v1/completions", json{{"prompt", "x"}, {"grammar", "root ::= (unclosed"}}.dump()));
  expect_error(r, 400, "invalid_value");
  EXPECT_EQ(body_of(r)["error"]["param"], "grammar") << r.body;
  r = api().handle(
      post("/v1/chat/completions",
           json{{"messages", {{{"role", "user"}, {"content", "x"}}}},
                {"response_format",
                 {{"type", "json_schema"},
                  {"json_schema", {{"name", "x"}, {"schema", {{"$ref", "#/nowhere"}}}}}}}}
               .dump()));
  expect_error(r, 400, "invalid_value");
  EXPECT_EQ(body_of(r)["error"]["param"], "response_format") << r.body;
}

TEST_F(StructuredOutput, ARequiredToolIsCalledWithArgumentsThatFollowItsSchema) {
  for (const int seed : {1, 2, 3}) {
    const json b = chat({{"tools", {kWeatherTool, kTimeTool}},
                         {"tool_choice", "required"},
                         {"seed", seed},
                         {"temperature", 1.0}});
    const json& choice = b["choices"][0];
    EXPECT_EQ(choice["finish_reason"], "tool_calls") << b.dump();
    const json& calls = choice["message"]["tool_calls"];
    ASSERT_TRUE(calls.is_array() && !calls.empty()) << b.dump();
    EXPECT_TRUE(choice["message"]["content"].is_null()) << b.dump();
    for (const json& call : calls) {
      EXPECT_EQ(call["type"], "function");
      EXPECT_EQ(call["id"].get<std::string>().rfind("call_", 0), 0u) << call;
      const std::string name = call["function"]["name"];
      const json& tool = name == "get_weather" ? kWeatherTool : kTimeTool;
      ASSERT_TRUE(name == "get_weather" || name == "get_time") << name;
      const json args = json::parse(call["function"]["arguments"].get<std::string>());
      EXPECT_EQ(schema_violation(args, tool["function"]["parameters"]), "") << args;
    }
  }
}

TEST_F(StructuredOutput, ANamedToolIsTheOneCalled) {
  const json b =
      chat({{"tools", {kWeatherTool, kTimeTool}},
            {"tool_choice", {{"type", "function"}, {"function", {{"name", "get_time"}}}}},
            {"parallel_tool_calls", false},
            {"temperature", 0}});
  const json& calls = b["choices"][0]["message"]["tool_calls"];
  ASSERT_EQ(calls.size(), 1u) << b.dump();
  EXPECT_EQ(calls[0]["function"]["name"], "get_time");
}

TEST_F(StructuredOutput, AToolRoundTripFeedsTheResultBack) {
  const json first = chat({{"tools", {kWeatherTool}}, {"tool_choice", "required"}, {"seed", 5}});
  const json call = first["choices"][0]["message"]["tool_calls"][0];
  json messages = {{{"role", "user"}, {"content", "Weather in Oslo?"}},
                   first["choices"][0]["message"],
                   {{"role", "tool"}, {"tool_call_id", call["id"]}, {"content", "Sunny, 21 C"}}};
  const json second = chat({{"messages", messages},
                            {"tools", {kWeatherTool}},
                            {"tool_choice", "none"},
                            {"temperature", 0},
                            {"max_tokens", 8}});
  EXPECT_EQ(second["choices"][0]["finish_reason"], "length") << second.dump();
  EXPECT_TRUE(second["choices"][0]["message"]["content"].is_string());
  // The call and its result reached the prompt, in that order.
  inference::ToolCall made{call["id"], call["function"]["name"], call["function"]["arguments"]};
  const std::string prompt = engine_
                                 ->apply_chat({{"user", "Weather in Oslo?", {}, {}},
                                               {"assistant", "", {made}, {}},
                                               {"tool", "Sunny, 21 C", {}, made.id}},
                                              {})
                                 .prompt;
  const auto at_call = prompt.find(made.arguments);
  ASSERT_NE(at_call, std::string::npos) << prompt;
  EXPECT_NE(prompt.find("Sunny, 21 C", at_call), std::string::npos) << prompt;
}

TEST_F(StructuredOutput, StreamedToolCallsArriveAsDeltas) {
  json body = {{"messages", {{{"role", "user"}, {"content", "Weather?"}}}},
               {"tools", {kWeatherTool}},
               {"tool_choice", "required"},
               {"seed", 3},
               {"max_tokens", 300},
               {"stream", true}};
  const auto chunks = events(run(api().handle(post("/v1/chat/completions", body.dump()))));
  ASSERT_FALSE(chunks.empty());
  std::string name, arguments;
  for (const json& c : chunks) {
    const json& delta = c["choices"][0]["delta"];
    if (!delta.contains("tool_calls")) continue;
    for (const json& t : delta["tool_calls"]) {
      EXPECT_EQ(t["index"], 0) << t;
      if (t["function"].contains("name")) name += t["function"]["name"].get<std::string>();
      arguments += t["function"]["arguments"].get<std::string>();
    }
  }
  EXPECT_EQ(chunks.back()["choices"][0]["finish_reason"], "tool_calls") << chunks.back();
  EXPECT_EQ(name, "get_weather");
  EXPECT_EQ(schema_violation(json::parse(arguments), kWeatherTool["function"]["parameters"]), "")
      << arguments;
}

TEST_F(StructuredOutput, AToolChoiceOrMessageThatCannotApplyIsRefusedByName) {
  auto refused = [](const json& body, const std::string& param) {
    auto r = api().handle(post("/v1/chat/completions", body.dump()));
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(body_of(r)["error"]["param"], param) << r.body;
  };
  const json user = {{{"role", "user"}, {"content", "x"}}};
  refused({{"messages", user}, {"tool_choice", "required"}}, "tool_choice");
  refused({{"messages", user},
           {"tools", {kWeatherTool}},
           {"tool_choice", {{"type", "function"}, {"function", {{"name", "nope"}}}}}},
          "tool_choice.function.name");
  refused({{"messages", user},
           {"tools", {kWeatherTool}},
           {"response_format", {{"type", "json_object"}}}},
          "response_format");
  refused({{"messages", user}, {"response_format", {{"type", "yaml"}}}}, "response_format.type");
  refused({{"messages", {{{"role", "tool"}, {"content", "21 C"}}}}}, "messages[0].tool_call_id");
  refused({{"messages", user},
           {"tools", {{{"type", "function"}, {"function", {{"name", "bad name!"}}}}}}},
          "tools[0].function.name");
  refused(
      {{"messages", user},
       {"tools", {{{"type", "function"}, {"function", {{"name", "f"}, {"strict_mode", true}}}}}}},
      "tools[0].function.strict_mode");
}

// A template with a tool-call format of its own (Qwen 2.5's, from llama.cpp's collection): the
// prompt lists the tools its way, the grammar starts after the template's opening of the
// assistant turn, and the calls are read back from its <tool_call> tags.
TEST(NativeTools, ATemplatesOwnFormatIsUsedAndParsedBack) {
  TempDir dir;
  inference::TinyModelSpec spec;
  spec.chat_template =
      read_file(std::filesystem::path(TANDEM_TEST_TEMPLATES) / "Qwen-Qwen2.5-7B-Instruct.jinja");
  inference::make_tiny_model(TANDEM_TEST_VOCAB, dir / "qwen-tools.gguf", spec);
  inference::EngineOptions o;
  o.model = dir / "qwen-tools.gguf";
  o.parallel = 1;
  o.ctx_size = 1024;
  o.threads = 1;
  inference::Engine engine(o);
  Api api{&engine, ApiOptions{"i", "", RequestLimits{256, 4096}, {}}};

  const inference::ChatPrompt rendered =
      engine.apply_chat({{"user", "Weather?", {}, {}}},
                        {{{"get_weather", "", kWeatherTool["function"]["parameters"].dump()}},
                         inference::ToolChoice::required,
                         "",
                         true,
                         std::nullopt});
  EXPECT_NE(rendered.prompt.find("<tools>"), std::string::npos) << rendered.prompt;
  EXPECT_EQ(rendered.grammar.prefill, "<|im_start|>assistant\n");

  // The template's own calls are read back (what a real model trained on it writes).
  ASSERT_TRUE(rendered.parser);
  const inference::ChatReply reply = rendered.parser->parse(
      "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", "
      "\"days\": 2}}\n</tool_call>",
      /*partial=*/false);
  ASSERT_EQ(reply.tool_calls.size(), 1u) << reply.content;
  EXPECT_EQ(reply.tool_calls[0].name, "get_weather");
  EXPECT_EQ(json::parse(reply.tool_calls[0].arguments), json({{"city", "Oslo"}, {"days", 2}}));

  // Its grammar starts with the assistant's opening, which the prompt already holds: the
  // sampler is advanced past it, so generation starts (llama-server's chat path answers 400
  // "Failed to initialize samplers" here on these test models). Its grammar lets the model write
  // before the call; random weights write until max_tokens, a trained model calls the tool.
  json body = {{"messages", {{{"role", "user"}, {"content", "Weather?"}}}},
               {"tools", {kWeatherTool}},
               {"tool_choice", "required"},
               {"seed", 1},
               {"max_tokens", 16}};
  auto r = api.handle(post("/v1/chat/completions", body.dump()));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r)["usage"]["completion_tokens"], 16) << r.body;
  // Not made to write the opening again.
  const json content = body_of(r)["choices"][0]["message"]["content"];
  EXPECT_EQ(content.dump().find("im_start"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace tandem::api
