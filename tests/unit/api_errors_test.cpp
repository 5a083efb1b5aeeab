// Inference failures and bad requests map to OpenAI-shaped errors with the right status, and
// every request shows up in /metrics.
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "inference/completion.h"
#include "service/api/api.h"
#include "tests/support/api_calls.h"
#include "tests/support/fake_backend.h"

namespace tandem::api {
namespace {

using nlohmann::json;
using namespace tandem::testing;

class ApiErrorsTest : public ::testing::Test {
 protected:
  testing::FakeBackend backend;
  Api api{&backend, ApiOptions{"instance-1", "", RequestLimits{}, {}}};
};

TEST_F(ApiErrorsTest, QueueFullIs503WithRetryAfter) {
  backend.before_complete = [] { throw inference::QueueFull("queue full"); };
  auto r = api.handle(post("/v1/completions", R"({"prompt":"x"})"));
  expect_error(r, 503, "queue_full");
  EXPECT_EQ(r.headers.at("Retry-After"), "1");
}

TEST_F(ApiErrorsTest, PromptTooLongIs400) {
  backend.before_complete = [] { throw inference::PromptTooLong("prompt has 3000 tokens"); };
  auto r =
      api.handle(post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}]})"));
  expect_error(r, 400, "context_length_exceeded");
  EXPECT_NE(r.body.find("3000 tokens"), std::string::npos);
  EXPECT_EQ(body_of(r)["error"]["type"], "invalid_request_error");
}

TEST_F(ApiErrorsTest, AnythingElseIs500) {
  backend.before_complete = [] { throw std::runtime_error("decode failed"); };
  auto r = api.handle(post("/v1/completions", R"({"prompt":"x"})"));
  expect_error(r, 500, "internal_error");
  EXPECT_EQ(body_of(r)["error"]["type"], "server_error");
}

TEST_F(ApiErrorsTest, BadJsonAndBadFieldsAre400) {
  auto bad_json = api.handle(post("/v1/completions", "{\"prompt\": x}"));
  expect_error(bad_json, 400, "invalid_json");
  EXPECT_NE(body_of(bad_json)["error"]["message"].get<std::string>().find("line 1, column"),
            std::string::npos);
  auto bad_field = api.handle(post("/v1/completions", R"({"prompt":"x","max_tokens":-5})"));
  expect_error(bad_field, 400, "invalid_value");
  json e = body_of(bad_field)["error"];
  EXPECT_EQ(e["message"], "field 'max_tokens': expected an integer from 1 to 4096, got -5");
  EXPECT_EQ(e["param"], "max_tokens");
  EXPECT_EQ(backend.calls(), 0);
}

TEST_F(ApiErrorsTest, LimitsComeFromTheOptions) {
  Api small(&backend, ApiOptions{"i", "", RequestLimits{3, 8}, {}});
  json b = body_of(small.handle(post("/v1/completions", R"({"prompt":"x"})")));
  EXPECT_EQ(b["usage"]["completion_tokens"], 3);
  auto r = small.handle(post("/v1/completions", R"({"prompt":"x","max_tokens":9})"));
  expect_error(r, 400, "invalid_value");
  EXPECT_NE(r.body.find("from 1 to 8"), std::string::npos) << r.body;
}

TEST_F(ApiErrorsTest, MetricsCountRequestsErrorsAndTokens) {
  api.handle(post("/v1/completions", R"({"prompt":"abc"})"));
  api.handle(post("/v1/completions", R"({"prompt":"x","max_tokens":0})"));
  api.handle(make("GET", "/v1/nothing"));
  run(api.handle(post("/v1/completions", R"({"prompt":"ab","stream":true,"max_tokens":2})")));
  auto r = api.handle(make("GET", "/metrics"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type.rfind("text/plain", 0), 0u);
  const std::string& text = r.body;
  for (const char* line :
       {"tandem_requests_total{route=\"/v1/completions\",status=\"200\"} 2\n",
        "tandem_requests_total{route=\"/v1/completions\",status=\"400\"} 1\n",
        "tandem_requests_total{route=\"unmatched\",status=\"404\"} 1\n",
        "tandem_errors_total{code=\"invalid_value\"} 1\n",
        "tandem_errors_total{code=\"not_found\"} 1\n", "tandem_prompt_tokens_total 5\n",
        "tandem_generated_tokens_total 6\n", "tandem_queue_depth 3\n", "tandem_slots_busy 1\n",
        "tandem_model_loaded 1\n", "tandem_request_duration_seconds_count 4\n",
        "tandem_request_duration_seconds_bucket{le=\"+Inf\"} 4\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << "missing: " << line << "in:\n" << text;
  }
}

TEST_F(ApiErrorsTest, ConcurrentRequestsAllCounted) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this] {
      for (int i = 0; i < 25; ++i) api.handle(post("/v1/completions", R"({"prompt":"x"})"));
    });
  }
  for (auto& t : threads) t.join();
  const std::string text = api.metrics().render(nullptr);
  EXPECT_NE(text.find("tandem_requests_total{route=\"/v1/completions\",status=\"200\"} 100\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(backend.calls(), 100);
}

}  // namespace
}  // namespace tandem::api
