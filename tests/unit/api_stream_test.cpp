// stream:true on both endpoints: OpenAI's chunk shapes over Server-Sent Events, and what happens
// when the client goes away or inference fails after the headers were sent.
#include <string>

#include <gtest/gtest.h>

#include "inference/completion.h"
#include "service/api/api.h"
#include "tests/support/api_calls.h"
#include "tests/support/fake_backend.h"

namespace tandem::api {
namespace {

using nlohmann::json;
using namespace tandem::testing;

class ApiStreamTest : public ::testing::Test {
 protected:
  testing::FakeBackend backend;
  Api api{&backend, ApiOptions{"instance-1", "", RequestLimits{}, {}}};
};

constexpr const char* kChat = R"({"messages":[{"role":"user","content":"U"}],"stream":true)";

TEST_F(ApiStreamTest, ChatStreamsChunksThenDone) {
  auto r = api.handle(post("/v1/chat/completions", std::string(kChat) + "}"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/event-stream");
  EXPECT_EQ(r.headers.at("X-Tandem-Instance"), "instance-1");
  auto chunks = events(run(r));
  ASSERT_EQ(chunks.size(), 6u);  // role, 4 pieces, finish
  std::string content;
  for (const json& c : chunks) {
    EXPECT_EQ(c["object"], "chat.completion.chunk");
    EXPECT_EQ(c["id"], chunks[0]["id"]);
    EXPECT_EQ(c["model"], "fake-model");
    EXPECT_FALSE(c.contains("usage"));
    ASSERT_EQ(c["choices"].size(), 1u);
    EXPECT_TRUE(c["choices"][0]["logprobs"].is_null());
    content += c["choices"][0]["delta"].value("content", "");
  }
  EXPECT_EQ(chunks[0]["choices"][0]["delta"]["role"], "assistant");
  EXPECT_TRUE(chunks[0]["choices"][0]["finish_reason"].is_null());
  EXPECT_EQ(content, "Hello, world!");
  EXPECT_EQ(chunks.back()["choices"][0]["delta"], json::object());
  EXPECT_EQ(chunks.back()["choices"][0]["finish_reason"], "stop");
}

TEST_F(ApiStreamTest, CompletionStreamsWithUsageLast) {
  auto r = api.handle(post("/v1/completions",
                           R"({"prompt":"ab","max_tokens":3,"stream":true,
                               "stream_options":{"include_usage":true}})"));
  auto chunks = events(run(r));
  ASSERT_EQ(chunks.size(), 5u);  // 3 pieces, finish, usage
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(chunks[i]["object"], "text_completion");
    EXPECT_TRUE(chunks[i]["usage"].is_null());
  }
  EXPECT_EQ(chunks[0]["choices"][0]["text"], "Hello");
  EXPECT_EQ(chunks[3]["choices"][0]["text"], "");
  EXPECT_EQ(chunks[3]["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(chunks[4]["choices"], json::array());
  EXPECT_EQ(chunks[4]["usage"]["prompt_tokens"], 2);
  EXPECT_EQ(chunks[4]["usage"]["completion_tokens"], 3);
}

TEST_F(ApiStreamTest, StreamedLogprobsWhenAsked) {
  auto chat = events(run(api.handle(
      post("/v1/chat/completions", std::string(kChat) + R"(,"logprobs":true,"top_logprobs":2})"))));
  ASSERT_EQ(chat.size(), 6u);
  const json& lp = chat[1]["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(lp.size(), 1u);
  EXPECT_EQ(lp[0]["token"], "Hello");
  EXPECT_EQ(lp[0]["top_logprobs"].size(), 2u);

  auto text = events(
      run(api.handle(post("/v1/completions", R"({"prompt":"ab","stream":true,"logprobs":0})"))));
  ASSERT_EQ(text.size(), 5u);
  EXPECT_EQ(text[1]["choices"][0]["logprobs"]["tokens"], json({","}));
  EXPECT_EQ(text[1]["choices"][0]["logprobs"]["text_offset"], json({7}));
  EXPECT_TRUE(text[4]["choices"][0]["logprobs"].is_null());
}

TEST_F(ApiStreamTest, ClientGoneCancelsGeneration) {
  // Role chunk and one piece get through; the second piece's write fails.
  auto s = run(api.handle(post("/v1/chat/completions", std::string(kChat) + "}")), 2);
  EXPECT_EQ(s.chunks.size(), 2u);
  EXPECT_EQ(backend.cancelled_after(), 2);  // the callback said stop at the 2nd piece
  events(s, /*done=*/false);
}

TEST_F(ApiStreamTest, ClientGoneBeforeTheFirstChunkRunsNoInference) {
  run(api.handle(post("/v1/chat/completions", std::string(kChat) + "}")), 0);
  EXPECT_EQ(backend.calls(), 0);
}

TEST_F(ApiStreamTest, QueueFullAfterHeadersIsAnErrorEvent) {
  backend.before_complete = [] { throw inference::QueueFull("all 2 slots busy, 16 waiting"); };
  auto chunks =
      events(run(api.handle(post("/v1/completions", R"({"prompt":"x","stream":true})"))), false);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0]["error"]["code"], "queue_full");
  EXPECT_NE(chunks[0]["error"]["message"].get<std::string>().find("16 waiting"), std::string::npos);
}

TEST_F(ApiStreamTest, InvalidUtf8FromTheModelStillMakesValidJson) {
  backend.pieces = {"ok", "\xE2\x82", "\xFF"};
  auto chunks = events(run(api.handle(post("/v1/completions", R"({"prompt":"x","stream":true})"))));
  ASSERT_EQ(chunks.size(), 4u);
  EXPECT_EQ(chunks[2]["choices"][0]["text"], "\xEF\xBF\xBD");  // U+FFFD
  auto whole = api.handle(post("/v1/completions", R"({"prompt":"x"})"));
  EXPECT_EQ(body_of(whole)["choices"][0]["text"].get<std::string>().substr(0, 2), "ok");
}

TEST_F(ApiStreamTest, BadStreamRequestIsStillA400) {
  expect_error(api.handle(post("/v1/completions", R"({"prompt":"x","stream":true,"top_p":0})")),
               400, "invalid_value");
}

}  // namespace
}  // namespace tandem::api
