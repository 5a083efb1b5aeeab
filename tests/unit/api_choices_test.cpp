// n > 1 on both endpoints against the fake backend: n choices indexed 0..n-1, whole and streamed,
// usage over all of them, seed + i per choice, and n bounded by the server's slots.
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "service/api/api.h"
#include "tests/support/api_calls.h"
#include "tests/support/fake_backend.h"

namespace tandem::api {
namespace {

using nlohmann::json;
using namespace tandem::testing;

class ApiChoicesTest : public ::testing::Test {
 protected:
  testing::FakeBackend backend;  // 2 slots
  Api api{&backend, ApiOptions{"instance-1", "", RequestLimits{}, {}}};
};

TEST_F(ApiChoicesTest, CompletionsAnswerNChoicesWithTheirUsage) {
  auto r = api.handle(post("/v1/completions", R"({"prompt":"P","n":2,"max_tokens":3,"seed":40})"));
  ASSERT_EQ(r.status, 200) << r.body;
  const json b = body_of(r);
  ASSERT_EQ(b["choices"].size(), 2u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(b["choices"][i]["index"], i);
    EXPECT_EQ(b["choices"][i]["text"], "Hello, world");
    EXPECT_EQ(b["choices"][i]["finish_reason"], "length");
  }
  EXPECT_EQ(b["usage"],
            json({{"prompt_tokens", 1}, {"completion_tokens", 6}, {"total_tokens", 7}}));
  EXPECT_EQ(backend.calls(), 2);
  EXPECT_EQ(backend.last_params().seed, 41u);  // choice 1: seed + 1
}

TEST_F(ApiChoicesTest, ChatAnswersNChoices) {
  auto r = api.handle(
      post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"U"}],"n":2})"));
  ASSERT_EQ(r.status, 200) << r.body;
  const json b = body_of(r);
  ASSERT_EQ(b["choices"].size(), 2u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(b["choices"][i]["index"], i);
    EXPECT_EQ(b["choices"][i]["message"]["content"], "Hello, world!");
  }
  EXPECT_EQ(b["usage"]["completion_tokens"], 8);
}

TEST_F(ApiChoicesTest, StreamedChunksCarryTheirChoicesIndex) {
  auto r = api.handle(post("/v1/chat/completions",
                           R"({"messages":[{"role":"user","content":"U"}],"n":2,"stream":true,
                               "stream_options":{"include_usage":true}})"));
  ASSERT_EQ(r.status, 200) << r.body;
  std::map<int, std::string> text;
  std::map<int, int> roles, finishes;
  json usage;
  for (const json& c : events(run(r))) {
    if (c["choices"].empty()) {
      usage = c["usage"];
      continue;
    }
    ASSERT_EQ(c["choices"].size(), 1u);
    const int index = c["choices"][0]["index"];
    const json& delta = c["choices"][0]["delta"];
    if (delta.contains("role")) ++roles[index];
    if (delta.contains("content")) text[index] += delta["content"].get<std::string>();
    if (!c["choices"][0]["finish_reason"].is_null()) ++finishes[index];
  }
  EXPECT_EQ(text, (std::map<int, std::string>{{0, "Hello, world!"}, {1, "Hello, world!"}}));
  EXPECT_EQ(roles, (std::map<int, int>{{0, 1}, {1, 1}}));
  EXPECT_EQ(finishes, (std::map<int, int>{{0, 1}, {1, 1}}));
  EXPECT_EQ(usage["completion_tokens"], 8);
  EXPECT_EQ(usage["prompt_tokens"], backend.last_prompt().size());
}

TEST_F(ApiChoicesTest, StreamedLogprobsCountEachChoicesOwnOffsets) {
  auto r = api.handle(post("/v1/completions",
                           R"({"prompt":"PP","n":2,"logprobs":0,"stream":true,"max_tokens":3})"));
  ASSERT_EQ(r.status, 200) << r.body;
  std::map<int, std::vector<int>> offsets;
  for (const json& c : events(run(r))) {
    const json& choice = c["choices"][0];
    if (choice["logprobs"].is_null()) continue;
    offsets[choice["index"]].push_back(choice["logprobs"]["text_offset"][0]);
  }
  // "Hello", ",", " world" after the 2-byte prompt, for each choice on its own.
  const std::vector<int> expected = {2, 7, 8};
  EXPECT_EQ(offsets, (std::map<int, std::vector<int>>{{0, expected}, {1, expected}}));
}

TEST_F(ApiChoicesTest, MoreChoicesThanSlotsIsA400NamingN) {
  for (const char* stream : {"false", "true"}) {
    auto r = api.handle(
        post("/v1/completions", std::string(R"({"prompt":"P","n":3,"stream":)") + stream + "}"));
    expect_error(r, 400, "invalid_value");
    EXPECT_EQ(body_of(r)["error"]["param"], "n");
    EXPECT_NE(r.body.find("at most 2 choices"), std::string::npos) << r.body;
  }
  EXPECT_EQ(backend.calls(), 0);
}

}  // namespace
}  // namespace tandem::api
