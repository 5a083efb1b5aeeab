#include "service/api/api.h"

#include <string>

#include <gtest/gtest.h>

#include "common/llama/llama_backend.h"
#include "tests/support/api_calls.h"
#include "tests/support/fake_backend.h"

namespace tandem::api {
namespace {

using nlohmann::json;
using namespace tandem::testing;

class ApiTest : public ::testing::Test {
 protected:
  testing::FakeBackend backend;
  Api api{&backend, ApiOptions{"instance-1", "", RequestLimits{}, {}}};
};

TEST_F(ApiTest, EveryResponseCarriesTheInstance) {
  for (const auto& r : {api.handle(make("GET", "/health")), api.handle(make("GET", "/nope")),
                        api.handle(post("/v1/completions", "{"))}) {
    ASSERT_TRUE(r.headers.count("X-Tandem-Instance")) << r.status;
    EXPECT_EQ(r.headers.at("x-tandem-instance"), "instance-1");
  }
  auto host = make("GET", "/health");
  host.headers["Host"] = "evil.example";
  EXPECT_EQ(api.handle(host).headers.at("X-Tandem-Instance"), "instance-1");
}

TEST(ApiLoading, HealthIs503UntilTheBackendIsSet) {
  testing::FakeBackend backend;
  Api api(nullptr, ApiOptions{"i", "", {}, {}});
  auto loading = api.handle(make("GET", "/health"));
  EXPECT_EQ(loading.status, 503);
  EXPECT_EQ(body_of(loading)["status"], "loading");
  for (const auto& path : {"/v1/models"}) {
    auto r = api.handle(make("GET", path));
    expect_error(r, 503, "model_loading");
    EXPECT_EQ(r.headers.at("Retry-After"), "1");
  }
  expect_error(api.handle(post("/v1/completions", R"({"prompt":"x"})")), 503, "model_loading");
  expect_error(api.handle(post("/v1/chat/completions", "{}")), 503, "model_loading");
  EXPECT_EQ(api.handle(make("GET", "/metrics")).status, 200);

  api.set_backend(&backend);
  auto ready = api.handle(make("GET", "/health"));
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(body_of(ready)["status"], "ok");
  EXPECT_EQ(api.handle(make("GET", "/v1/models")).status, 200);
}

// Issue #18: the CPU variant and each device's memory, once ggml's backends are loaded.
TEST_F(ApiTest, MetricsShowTheCpuVariantAndTheDevices) {
  llama::ensure_llama_backend();
  const auto r = api.handle(make("GET", "/metrics"));
  ASSERT_EQ(r.status, 200);
  const std::string variant = llama::backend_report()->cpu_variant;
  EXPECT_NE(r.body.find("tandem_backend_info{cpu_variant=\"" + variant + "\",cpu_features=\""),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("tandem_device_memory_total_bytes{device=\"CPU\",type=\"cpu\""),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("tandem_device_memory_free_bytes{device=\"CPU\"} "), std::string::npos);
}

TEST_F(ApiTest, ForeignHostIs403) {
  for (const char* host :
       {"127.0.0.1", "127.0.0.1:8030", "localhost", "LocalHost:1", "[::1]", "[::1]:8030", ""}) {
    auto r = make("GET", "/health");
    r.headers["Host"] = host;
    EXPECT_EQ(api.handle(r).status, 200) << host;
  }
  auto absent = make("GET", "/health");
  absent.headers.erase("Host");
  EXPECT_EQ(api.handle(absent).status, 200);
  for (const char* host : {"evil.example", "127.0.0.1.evil.example", "localhost.evil:80",
                           "localhost:abc", "[::1", "[::1]x", "127.0.0.2", "0.0.0.0:8030"}) {
    auto r = make("GET", "/v1/models");
    r.headers["Host"] = host;
    expect_error(api.handle(r), 403, "forbidden_host");
  }
}

TEST(ApiKey, RequiredEverywhereButHealth) {
  testing::FakeBackend backend;
  Api api(&backend, ApiOptions{"i", "sk-secret-key-1234", {}, {}});
  EXPECT_EQ(api.handle(make("GET", "/health")).status, 200);

  auto none = api.handle(make("GET", "/v1/models"));
  expect_error(none, 401, "invalid_api_key");
  EXPECT_EQ(none.headers.at("WWW-Authenticate"), "Bearer");
  expect_error(api.handle(make("GET", "/metrics")), 401, "invalid_api_key");
  expect_error(api.handle(post("/v1/completions", R"({"prompt":"x"})")), 401, "invalid_api_key");

  auto wrong = make("GET", "/v1/models");
  wrong.headers["Authorization"] = "Bearer sk-secret-key-1235";
  expect_error(api.handle(wrong), 401, "invalid_api_key");
  auto prefix = make("GET", "/v1/models");
  prefix.headers["Authorization"] = "Bearer sk-secret-key-123";
  expect_error(api.handle(prefix), 401, "invalid_api_key");

  auto bearer = make("GET", "/v1/models");
  bearer.headers["authorization"] = "bearer sk-secret-key-1234";
  EXPECT_EQ(api.handle(bearer).status, 200);
  auto header = post("/v1/completions", R"({"prompt":"x"})");
  header.headers["X-Api-Key"] = "sk-secret-key-1234";
  EXPECT_EQ(api.handle(header).status, 200);
}

TEST_F(ApiTest, APostThatIsNotJsonIs415) {
  auto none = make("POST", "/v1/completions", R"({"prompt":"x"})");
  auto r = api.handle(none);
  expect_error(r, 415, "unsupported_media_type");
  EXPECT_EQ(body_of(r)["error"]["message"], "Content-Type must be application/json, got none");
  // What a web page may send anywhere without a preflight.
  for (const char* type : {"text/plain", "application/x-www-form-urlencoded",
                           "multipart/form-data; boundary=x", "application/jsonp"}) {
    auto form = make("POST", "/v1/chat/completions", R"({"messages":[]})");
    form.headers["Content-Type"] = type;
    expect_error(api.handle(form), 415, "unsupported_media_type");
  }
  auto charset = make("POST", "/v1/completions", R"({"prompt":"x"})");
  charset.headers["Content-Type"] = "Application/JSON; charset=utf-8";
  EXPECT_EQ(api.handle(charset).status, 200);
}

TEST_F(ApiTest, ABrowserPageIsRefusedUnlessListed) {
  auto page = post("/v1/completions", R"({"prompt":"x"})");
  page.headers["Origin"] = "https://evil.example";
  auto r = api.handle(page);
  expect_error(r, 403, "forbidden_origin");
  EXPECT_EQ(r.headers.count("Access-Control-Allow-Origin"), 0u);
  auto health = make("GET", "/health");
  health.headers["Origin"] = "null";  // a sandboxed frame or a file:// page
  expect_error(api.handle(health), 403, "forbidden_origin");
  auto preflight = make("OPTIONS", "/v1/completions");
  preflight.headers["Origin"] = "https://evil.example";
  expect_error(api.handle(preflight), 403, "forbidden_origin");
}

TEST(ApiCors, AListedPageGetsItsPreflightAndCorsHeaders) {
  testing::FakeBackend backend;
  ApiOptions options;
  options.instance_id = "i";
  options.cors_origins = {"http://localhost:3000"};
  Api api(&backend, options);
  auto preflight = make("OPTIONS", "/v1/chat/completions");
  preflight.headers["Origin"] = "http://localhost:3000";
  auto p = api.handle(preflight);
  EXPECT_EQ(p.status, 204);
  EXPECT_EQ(p.headers.at("Access-Control-Allow-Origin"), "http://localhost:3000");
  EXPECT_EQ(p.headers.at("Access-Control-Allow-Methods"), "POST");
  EXPECT_NE(p.headers.at("Access-Control-Allow-Headers").find("Content-Type"), std::string::npos);
  auto call = post("/v1/completions", R"({"prompt":"x"})");
  call.headers["Origin"] = "http://localhost:3000";
  auto r = api.handle(call);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.at("Access-Control-Allow-Origin"), "http://localhost:3000");
  EXPECT_EQ(r.headers.at("Vary"), "Origin");
  auto other = post("/v1/completions", R"({"prompt":"x"})");
  other.headers["Origin"] = "http://localhost:3001";
  expect_error(api.handle(other), 403, "forbidden_origin");
  // Without an Origin (curl, SDKs, the trainer) nothing changes and no CORS header is added.
  auto sdk = api.handle(post("/v1/completions", R"({"prompt":"x"})"));
  EXPECT_EQ(sdk.status, 200);
  EXPECT_EQ(sdk.headers.count("Access-Control-Allow-Origin"), 0u);
}

TEST_F(ApiTest, ANonStreamedRequestWhoseClientLeftIsCancelled) {
  auto r = post("/v1/completions", R"({"prompt":"x"})");
  int checks = 0;
  r.client_gone = [&] { return ++checks > 2; };
  api.handle(r);
  EXPECT_EQ(backend.cancelled_after(), 3);  // not all 4 pieces
}

TEST_F(ApiTest, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  expect_error(api.handle(make("GET", "/v1/engines")), 404, "not_found");
  expect_error(api.handle(make("GET", "/v1/models/")), 404, "not_found");
  auto r = api.handle(make("GET", "/v1/completions"));
  expect_error(r, 405, "method_not_allowed");
  EXPECT_EQ(r.headers.at("Allow"), "POST");
  EXPECT_EQ(api.handle(make("DELETE", "/health")).headers.at("Allow"), "GET");
}

TEST_F(ApiTest, ModelsListsTheModel) {
  json b = body_of(api.handle(make("GET", "/v1/models")));
  EXPECT_EQ(b["object"], "list");
  ASSERT_EQ(b["data"].size(), 1u);
  EXPECT_EQ(b["data"][0]["id"], "fake-model");
  EXPECT_EQ(b["data"][0]["object"], "model");
  EXPECT_EQ(b["data"][0]["owned_by"], "tandem");
  EXPECT_TRUE(b["data"][0]["created"].is_number_integer());
  EXPECT_FALSE(b["data"][0].contains("note"));

  backend.test_model = true;
  json t = body_of(api.handle(make("GET", "/v1/models")));
  EXPECT_EQ(t["data"][0]["note"], "test model: output is meaningless \u2014 set `model`");
}

TEST_F(ApiTest, CompletionHasOpenAiShape) {
  auto r = api.handle(
      post("/v1/completions", R"({"prompt":"Once","max_tokens":10,"temperature":0.5,"seed":7})"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  json b = body_of(r);
  EXPECT_EQ(b["id"].get<std::string>().rfind("cmpl-", 0), 0u);
  EXPECT_EQ(b["object"], "text_completion");
  EXPECT_TRUE(b["created"].is_number_integer());
  EXPECT_EQ(b["model"], "fake-model");
  ASSERT_EQ(b["choices"].size(), 1u);
  EXPECT_EQ(b["choices"][0]["text"], "Hello, world!");
  EXPECT_EQ(b["choices"][0]["index"], 0);
  EXPECT_TRUE(b["choices"][0]["logprobs"].is_null());
  EXPECT_EQ(b["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(b["usage"]["prompt_tokens"], 4);
  EXPECT_EQ(b["usage"]["completion_tokens"], 4);
  EXPECT_EQ(b["usage"]["total_tokens"], 8);
  EXPECT_EQ(backend.last_prompt(), "Once");
  EXPECT_EQ(backend.last_params().max_tokens, 10);
  EXPECT_FLOAT_EQ(backend.last_params().temperature, 0.5f);
  EXPECT_EQ(backend.last_params().seed, 7u);
}

TEST_F(ApiTest, CompletionStoppedByLengthSaysSo) {
  json b = body_of(api.handle(post("/v1/completions", R"({"prompt":"x","max_tokens":2})")));
  EXPECT_EQ(b["choices"][0]["text"], "Hello,");
  EXPECT_EQ(b["choices"][0]["finish_reason"], "length");
}

TEST_F(ApiTest, CompletionLogprobsWhenAsked) {
  json b = body_of(api.handle(post("/v1/completions", R"({"prompt":"ab","logprobs":2})")));
  const json& lp = b["choices"][0]["logprobs"];
  ASSERT_TRUE(lp.is_object()) << b;
  EXPECT_EQ(lp["tokens"], json({"Hello", ",", " world", "!"}));
  ASSERT_EQ(lp["token_logprobs"].size(), 4u);
  EXPECT_FLOAT_EQ(lp["token_logprobs"][1].get<float>(), -0.5f);
  ASSERT_EQ(lp["top_logprobs"].size(), 4u);
  // The 2 alternatives and, as OpenAI answers, the chosen token.
  EXPECT_EQ(lp["top_logprobs"][0].size(), 3u);
  EXPECT_FLOAT_EQ(lp["top_logprobs"][0]["alt1"].get<float>(), -2.0f);
  EXPECT_FLOAT_EQ(lp["top_logprobs"][0]["Hello"].get<float>(), -0.25f);
  EXPECT_EQ(lp["text_offset"], json({2, 7, 8, 14}));  // after the 2-byte prompt
  EXPECT_EQ(backend.last_params().top_logprobs, 2);
}

TEST_F(ApiTest, ChatCompletionHasOpenAiShape) {
  auto r = api.handle(post("/v1/chat/completions",
                           R"({"model":"fake-model","messages":[{"role":"system","content":"S"},
                               {"role":"user","content":"U"}]})"));
  ASSERT_EQ(r.status, 200) << r.body;
  json b = body_of(r);
  EXPECT_EQ(b["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
  EXPECT_EQ(b["object"], "chat.completion");
  EXPECT_EQ(b["model"], "fake-model");
  const json& choice = b["choices"][0];
  EXPECT_EQ(choice["index"], 0);
  EXPECT_EQ(choice["message"]["role"], "assistant");
  EXPECT_EQ(choice["message"]["content"], "Hello, world!");
  EXPECT_TRUE(choice["logprobs"].is_null());
  EXPECT_EQ(choice["finish_reason"], "stop");
  EXPECT_EQ(b["usage"]["total_tokens"],
            b["usage"]["prompt_tokens"].get<int>() + b["usage"]["completion_tokens"].get<int>());
  EXPECT_EQ(backend.last_prompt(), "<system>S\n<user>U\n<assistant>");
  EXPECT_EQ(backend.last_params().top_logprobs, -1);
}

TEST_F(ApiTest, ChatLogprobsWhenAsked) {
  json b = body_of(api.handle(
      post("/v1/chat/completions",
           R"({"messages":[{"role":"user","content":"U"}],"logprobs":true,"top_logprobs":1})")));
  const json& content = b["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(content.size(), 4u) << b;
  EXPECT_EQ(content[0]["token"], "Hello");
  EXPECT_FLOAT_EQ(content[0]["logprob"].get<float>(), -0.25f);
  EXPECT_EQ(content[2]["bytes"], json({32, 119, 111, 114, 108, 100}));
  ASSERT_EQ(content[0]["top_logprobs"].size(), 1u);
  EXPECT_EQ(content[0]["top_logprobs"][0]["token"], "alt0");
  EXPECT_TRUE(content[0]["top_logprobs"][0]["bytes"].is_array());
}

}  // namespace
}  // namespace tandem::api
