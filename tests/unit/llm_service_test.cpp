// The service body end to end in one process: real config file, sockets, llama.cpp; the
// platform publisher replaced by a recorder (the Windows one is tested under Wine).
#include "service/llm_service.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/files.h"
#include "service/exit_codes.h"
#include "tests/support/in_process_llm.h"
#include "tests/support/loopback_socket.h"
#include "tests/support/raw_http_client.h"
#include "tests/support/tiny_model.h"

namespace tandem {
namespace {

using namespace std::chrono_literals;

using testing::PublicationRecorder;
using testing::RecordingPublisher;

class NullStatus final : public ServiceStatus {
 public:
  void starting(std::chrono::milliseconds) override { ++starts; }
  void running() override { ran = true; }
  void stopping(std::chrono::milliseconds) override {}
  std::atomic<int> starts{0};
  std::atomic<bool> ran{false};
};

class LlmServiceBody : public ::testing::Test {
 protected:
  llm::ServiceOptions options(const std::string& config) {
    write_file_atomically(dir / "llm-server.json", config);
    llm::ServiceOptions o;
    o.config_file = dir / "llm-server.json";
    o.default_model = testing::tiny_model_path();
    o.pipe_name = "test-pipe";
    o.make_publisher = [this](const discovery::Endpoint&) {
      return std::make_unique<RecordingPublisher>(recorder);
    };
    return o;
  }
  testing::TempDir dir;
  PublicationRecorder recorder;
  NullStatus status;
  StopSignal stop;
};

TEST_F(LlmServiceBody, PublishesOnlyWhenReadyAndWithdrawsOnStop) {
  const std::uint16_t port = testing::find_free_ports(2);
  auto o =
      options(nlohmann::json({{"port", port}, {"port_range", 2}, {"ctx_size", 256}, {"threads", 1}})
                  .dump());
  auto run = std::async(std::launch::async, [&] { return llm::run_llm_service(status, stop, o); });
  ASSERT_TRUE(recorder.wait_for(2, 60s)) << "never became ready";
  {
    std::lock_guard lock(recorder.mutex);
    EXPECT_EQ(recorder.events[0].state, discovery::State::starting);
    EXPECT_EQ(recorder.events[0].port, 0);
    EXPECT_EQ(recorder.events[1].state, discovery::State::ready);
    EXPECT_EQ(recorder.events[1].port, port);
    EXPECT_EQ(recorder.events[1].url, "http://127.0.0.1:" + std::to_string(port));
    EXPECT_EQ(recorder.events[1].model, "tandem-tiny");
  }
  EXPECT_TRUE(status.ran);
  EXPECT_GE(status.starts.load(), 2);
  const std::string instance = recorder.events[1].instance_id;
  for (auto family : {testing::Family::v4, testing::Family::v6}) {
    testing::RawHttpConnection http(testing::loopback(family), port);
    auto health = http.request("GET", "/health");
    EXPECT_EQ(health.status, 200);
    EXPECT_EQ(health.header("x-tandem-instance"), instance);
    auto models = nlohmann::json::parse(http.request("GET", "/v1/models").body);
    EXPECT_EQ(models["data"][0]["id"], "tandem-tiny");
  }
  {
    // Real requests through real sockets and llama.cpp: streaming, and the error statuses.
    testing::RawHttpConnection http("127.0.0.1", port);
    const std::string json = "Content-Type: application/json\r\n";
    auto streamed = http.request(
        "POST", "/v1/chat/completions",
        R"({"messages":[{"role":"user","content":"Hi"}],"max_tokens":3,"stream":true})", json);
    EXPECT_EQ(streamed.status, 200);
    EXPECT_EQ(streamed.header("content-type").rfind("text/event-stream", 0), 0u);
    EXPECT_NE(streamed.body.find("\"object\":\"chat.completion.chunk\""), std::string::npos);
    EXPECT_EQ(streamed.body.substr(streamed.body.size() - 14), "data: [DONE]\n\n");
    auto logprobs = nlohmann::json::parse(
        http.request("POST", "/v1/completions",
                     R"({"prompt":"Hello","max_tokens":2,"logprobs":2,"temperature":0})", json)
            .body);
    EXPECT_EQ(logprobs["choices"][0]["logprobs"]["tokens"].size(), 2u);
    // Prompt scoring, as the trainer's distill job asks for it: the prompt's tokens, scored.
    auto echoed = nlohmann::json::parse(
        http.request("POST", "/v1/completions",
                     R"({"prompt":"Review: fine. Label: positive","echo":true,"logprobs":0,)"
                     R"("max_tokens":0,"temperature":0})",
                     json)
            .body);
    const auto& scored = echoed["choices"][0]["logprobs"];
    EXPECT_EQ(echoed["choices"][0]["text"], "Review: fine. Label: positive");
    EXPECT_EQ(scored["tokens"].size(), echoed["usage"]["prompt_tokens"].get<std::size_t>());
    EXPECT_TRUE(scored["token_logprobs"][0].is_null());
    EXPECT_LT(scored["token_logprobs"].back().get<double>(), 0.0);
    EXPECT_EQ(scored["text_offset"][0], 0);
    EXPECT_EQ(http.request("POST", "/v1/completions", "{not json", json).status, 400);
    EXPECT_EQ(
        http.request("POST", "/v1/completions", R"({"prompt":"x","max_tokens":-5})", json).status,
        400);
    EXPECT_EQ(http.request("GET", "/nope").status, 404);
    EXPECT_EQ(http.request("GET", "/v1/completions").status, 405);
    testing::RawHttpConnection evil("127.0.0.1", port);
    EXPECT_EQ(evil.request("GET", "/v1/models", {}, "Host: evil.example\r\n").status, 403);
    EXPECT_EQ(http.request("GET", "/health").status, 200);  // still up after all of that
  }
  stop.request();
  ASSERT_EQ(run.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(run.get(), llm::kExitOk);
  ASSERT_TRUE(recorder.wait_for(3, 1s));
  EXPECT_EQ(recorder.events[2].state, discovery::State::stopped);
  EXPECT_FALSE(testing::try_connect("127.0.0.1", port).has_value());
}

TEST_F(LlmServiceBody, InvalidConfigPublishesNothingAndSaysWhy) {
  auto o = options("{\n  \"ctx_size\": \"big\"\n}");
  EXPECT_EQ(llm::run_llm_service(status, stop, o), llm::kExitBadConfig);
  EXPECT_TRUE(recorder.events.empty());
  EXPECT_FALSE(status.ran);
}

TEST_F(LlmServiceBody, MissingModelFailsWithItsOwnExitCode) {
  const std::uint16_t port = testing::find_free_ports(1);
  auto o = options(
      nlohmann::json({{"port", port}, {"port_range", 1}, {"model", (dir / "absent.gguf").string()}})
          .dump());
  EXPECT_EQ(llm::run_llm_service(status, stop, o), llm::kExitModelFailed);
  ASSERT_EQ(recorder.events.size(), 1u);  // starting, never ready
  EXPECT_FALSE(status.ran);
}

}  // namespace
}  // namespace tandem
