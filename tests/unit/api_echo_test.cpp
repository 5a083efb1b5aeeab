// POST /v1/completions with "echo": the prompt comes back as part of the text and, with
// logprobs, scored token by token (OpenAI's legacy prompt scoring, as vLLM also serves it).
#include "service/api/api.h"

#include <string>

#include <gtest/gtest.h>

#include "tests/support/api_calls.h"
#include "tests/support/fake_backend.h"

namespace tandem::api {
namespace {

using nlohmann::json;
using namespace tandem::testing;

class ApiEcho : public ::testing::Test {
 protected:
  json completion(const std::string& body) {
    auto r = api.handle(post("/v1/completions", body));
    EXPECT_EQ(r.status, 200) << r.body;
    return body_of(r);
  }
  void expect_rejected(const std::string& path, const std::string& body, const std::string& param,
                       const std::string& says = "") {
    auto r = api.handle(post(path, body));
    expect_error(r, 400, "invalid_value");
    const json b = body_of(r);
    EXPECT_EQ(b["error"]["param"], param) << r.body;
    EXPECT_NE(b["error"]["message"].get<std::string>().find(says), std::string::npos) << r.body;
  }

  FakeBackend backend;
  Api api{&backend, ApiOptions{"instance-1", "", RequestLimits{}, {}}};
};

TEST_F(ApiEcho, MaxTokensZeroScoresOnlyThePrompt) {
  const json b = completion(R"({"prompt":"abc","echo":true,"logprobs":1,"max_tokens":0})");
  const json& choice = b["choices"][0];
  EXPECT_EQ(choice["text"], "abc");
  EXPECT_EQ(choice["finish_reason"], "length");
  const json& lp = choice["logprobs"];
  EXPECT_EQ(lp["tokens"], json({"a", "b", "c"}));
  ASSERT_EQ(lp["token_logprobs"].size(), 3u);
  EXPECT_TRUE(lp["token_logprobs"][0].is_null());
  EXPECT_FLOAT_EQ(lp["token_logprobs"][1].get<float>(), -0.5f);
  EXPECT_FLOAT_EQ(lp["token_logprobs"][2].get<float>(), -1.0f);
  ASSERT_EQ(lp["top_logprobs"].size(), 3u);
  EXPECT_TRUE(lp["top_logprobs"][0].is_null());
  // `logprobs` alternatives plus the chosen token, as OpenAI answers.
  EXPECT_EQ(lp["top_logprobs"][1], json({{"alt0", -1.0}, {"b", -0.5}}));
  EXPECT_EQ(lp["text_offset"], json({0, 1, 2}));
  EXPECT_EQ(b["usage"],
            json({{"prompt_tokens", 3}, {"completion_tokens", 0}, {"total_tokens", 3}}));
  EXPECT_TRUE(backend.last_params().echo);
  EXPECT_EQ(backend.last_params().max_tokens, 0);
  EXPECT_EQ(backend.last_params().top_logprobs, 1);
}

TEST_F(ApiEcho, ThePromptsTokensComeBeforeTheGeneratedOnes) {
  const json b = completion(R"({"prompt":"ab","echo":true,"logprobs":0,"max_tokens":2})");
  const json& choice = b["choices"][0];
  EXPECT_EQ(choice["text"], "abHello,");
  const json& lp = choice["logprobs"];
  EXPECT_EQ(lp["tokens"], json({"a", "b", "Hello", ","}));
  EXPECT_EQ(lp["text_offset"], json({0, 1, 2, 7}));
  // Every offset points at its token in the text.
  const std::string text = choice["text"];
  for (std::size_t i = 0; i < lp["tokens"].size(); ++i) {
    const std::string token = lp["tokens"][i];
    EXPECT_EQ(text.substr(lp["text_offset"][i].get<std::size_t>(), token.size()), token) << i;
  }
  EXPECT_TRUE(lp["top_logprobs"][0].is_null());
  EXPECT_EQ(lp["top_logprobs"][1], json({{"b", -0.5}}));
  EXPECT_EQ(lp["top_logprobs"][2], json({{"Hello", -0.25}}));
  EXPECT_FLOAT_EQ(lp["token_logprobs"][3].get<float>(), -0.5f);
  EXPECT_EQ(b["usage"]["completion_tokens"], 2);
}

TEST_F(ApiEcho, WithoutLogprobsTheTextStillStartsWithThePrompt) {
  const json b = completion(R"({"prompt":"Once","echo":true,"max_tokens":3})");
  EXPECT_EQ(b["choices"][0]["text"], "OnceHello, world");
  EXPECT_TRUE(b["choices"][0]["logprobs"].is_null());
  const json none = completion(R"({"prompt":"Once","echo":true,"max_tokens":0})");
  EXPECT_EQ(none["choices"][0]["text"], "Once");
  EXPECT_EQ(none["choices"][0]["finish_reason"], "length");
  // echo false is the default: no prompt in the text, offsets after it.
  const json off = completion(R"({"prompt":"ab","echo":false,"logprobs":0,"max_tokens":1})");
  EXPECT_EQ(off["choices"][0]["text"], "Hello");
  EXPECT_EQ(off["choices"][0]["logprobs"]["text_offset"], json({2}));
  EXPECT_FALSE(backend.last_params().echo);
}

TEST_F(ApiEcho, InvalidRequestsNameTheField) {
  const std::string completions = "/v1/completions";
  expect_rejected(completions, R"({"prompt":"x","max_tokens":0})", "max_tokens", "echo");
  expect_rejected(completions, R"({"prompt":"x","echo":false,"max_tokens":0})", "max_tokens",
                  "echo");
  expect_rejected(completions, R"({"prompt":"x","echo":true,"max_tokens":-1})", "max_tokens",
                  "from 0 to 4096");
  expect_rejected(completions, R"({"prompt":"x","echo":true,"stream":true})", "echo",
                  "not supported with \"stream\": true");
  expect_rejected(completions, R"({"prompt":"x","echo":"yes"})", "echo", "true or false");
  expect_rejected(completions, R"({"prompt":"x","echo":1,"max_tokens":0})", "echo");
  // The chat endpoint is unchanged: it has no echo, and still generates at least one token.
  expect_rejected("/v1/chat/completions",
                  R"({"messages":[{"role":"user","content":"x"}],"echo":true,"max_tokens":0})",
                  "max_tokens");
  EXPECT_EQ(backend.calls(), 0);
}

TEST_F(ApiEcho, TheChatEndpointRefusesEcho) {
  // OpenAI's chat API has no echo: refused by name, never silently ignored.
  auto r = api.handle(
      post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"U"}],"echo":true})"));
  expect_error(r, 400, "unknown_argument");
  EXPECT_EQ(body_of(r)["error"]["param"], "echo");
  EXPECT_EQ(backend.calls(), 0);
}

}  // namespace
}  // namespace tandem::api
