#include "trainer/llm_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <future>
#include <sstream>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "common/log.h"
#include "tests/support/loopback_socket.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/llm_client_test_support.h"
#include "trainer/teacher.h"

namespace tandem::trainer {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using testing::reply_json;
using testing::ScriptedResolver;
using testing::ScriptedServer;

constexpr auto kBound = 10s;  // every wait in these tests fails after this

milliseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
}

LlmClientOptions fast_options(int max_retries = 3) {
  LlmClientOptions o;
  o.http.connect_timeout = 2s;
  o.http.read_timeout = 5s;
  o.max_retries = max_retries;
  o.resolve_timeout = 5s;
  o.backoff_base = 1ms;
  o.backoff_max = 4ms;
  o.jitter_seed = 7;
  return o;
}

class LlmClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    log_dir_ = new testing::TempDir();
    log::Options o;
    o.directory = log_dir_->path();
    o.file_stem = "client";
    o.level = log::Level::debug;
    log::init(o);
  }
  static void TearDownTestSuite() {
    log::shutdown();
    delete log_dir_;
  }
  static std::string log_text() {
    std::ifstream in(log_dir_->path() / "client.log");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  static testing::TempDir* log_dir_;
};

testing::TempDir* LlmClientTest::log_dir_ = nullptr;

ScriptedServer::Handler answer(const std::string& name) {
  return [name](const httplib::Request&, httplib::Response& res) {
    reply_json(res, 200, R"({"server":")" + name + R"("})");
  };
}

TEST(Backoff, EqualJitterWithinTheExponentialBoundAndCapped) {
  Backoff b(100ms, 10s, 42);
  for (int retry = 0; retry < 12; ++retry) {
    const auto d = std::min<milliseconds>(100ms * (1LL << retry), 10s);
    const auto got = b.delay(retry);
    EXPECT_GE(got, d / 2) << "retry " << retry;
    EXPECT_LE(got, d) << "retry " << retry;
  }
  const auto huge = b.delay(1000);  // no overflow past the cap
  EXPECT_GE(huge, 5s);
  EXPECT_LE(huge, 10s);
  EXPECT_EQ(Backoff(0ms, 0ms, 1).delay(3), 0ms);
}

TEST(Backoff, JitterIsDeterministicUnderASeed) {
  auto sequence = [](std::uint64_t seed) {
    Backoff b(200ms, 10s, seed);
    std::vector<long long> out;
    for (int retry = 0; retry < 16; ++retry) out.push_back(b.delay(retry).count());
    return out;
  };
  EXPECT_EQ(sequence(42), sequence(42));
  EXPECT_NE(sequence(42), sequence(43));
  // Jittered at all: 16 draws over ranges of hundreds of ms are not all at the lower bound.
  auto s = sequence(42);
  int at_floor = 0;
  for (int retry = 0; retry < 16; ++retry) {
    if (s[static_cast<std::size_t>(retry)] == std::min(200LL << retry, 10'000LL) / 2) ++at_floor;
  }
  EXPECT_LT(at_floor, 16);
}

TEST(WaitUnlessStopped, WaitsTheDelayOrThrowsStopped) {
  const auto start = Clock::now();
  wait_unless_stopped(50ms, {});
  EXPECT_GE(since(start), 50ms);
  std::stop_source stopped;
  stopped.request_stop();
  EXPECT_THROW(wait_unless_stopped(60s, stopped.get_token()), Stopped);
  EXPECT_LT(since(start), kBound);
}

// Many stops racing the wake-up. With condition_variable_any's stop_token overloads instead, a
// loop like this hangs in one run of two or so under Wine (MinGW g++ 12).
TEST(WaitUnlessStopped, StopFromAnotherThreadAlwaysEndsTheWait) {
  for (int round = 0; round < 1000; ++round) {
    std::stop_source stop;
    std::promise<void> waiting;
    auto waiter = std::async(std::launch::async, [&] {
      waiting.set_value();
      wait_unless_stopped(60s, stop.get_token());
    });
    ASSERT_EQ(waiting.get_future().wait_for(kBound), std::future_status::ready);
    stop.request_stop();
    ASSERT_EQ(waiter.wait_for(kBound), std::future_status::ready) << "round " << round;
    EXPECT_THROW(waiter.get(), Stopped);
  }
}

TEST(LlmClientOptions, InvalidOnesAreRefused) {
  ScriptedResolver resolver;
  auto with = [](auto change) {
    LlmClientOptions o = fast_options();
    change(o);
    return o;
  };
  EXPECT_THROW(LlmClient(resolver, with([](auto& o) { o.max_retries = -1; })), Error);
  EXPECT_THROW(LlmClient(resolver, with([](auto& o) { o.backoff_max = 0ms; })), Error);
  EXPECT_THROW(LlmClient(resolver, with([](auto& o) { o.backoff_base = -1ms; })), Error);
}

TEST_F(LlmClientTest, ResolvesLazilyAndKeepsTheEndpoint) {
  ScriptedServer a(answer("A"));
  ScriptedResolver resolver;
  resolver.publish(a.port(), "instance-a");
  LlmClient client(resolver, fast_options());
  EXPECT_FALSE(client.endpoint());
  EXPECT_EQ(resolver.resolves(), 0);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(client.post_json("/x", "{}", {}).body, R"({"server":"A"})");
  EXPECT_EQ(resolver.resolves(), 1);
  ASSERT_TRUE(client.endpoint());
  EXPECT_EQ(client.endpoint()->port, a.port());
  EXPECT_EQ(client.endpoint()->instance_id, "instance-a");
  auto c = client.counters();
  EXPECT_EQ(c.requests, 3u);
  EXPECT_EQ(c.retries, 0u);
  EXPECT_EQ(c.reconnects, 0u);
}

TEST_F(LlmClientTest, DroppedConnectionRetriesOnTheReResolvedPort) {
  ScriptedServer a(answer("A"));
  ScriptedServer b(answer("B"));
  ScriptedResolver resolver;
  resolver.publish(a.port(), "instance-a");
  LlmClient client(resolver, fast_options());
  EXPECT_EQ(client.post_json("/x", "{}", {}).body, R"({"server":"A"})");

  // The server restarts on another port; the client only learns of it through the failure.
  a.stop();
  resolver.publish(b.port(), "instance-b");
  EXPECT_EQ(client.post_json("/x", "{}", {}).body, R"({"server":"B"})");
  EXPECT_EQ(a.hits(), 1);
  EXPECT_EQ(b.hits(), 1);
  EXPECT_EQ(resolver.resolves(), 2);
  ASSERT_TRUE(client.endpoint());
  EXPECT_EQ(client.endpoint()->port, b.port());
  auto c = client.counters();
  EXPECT_EQ(c.reconnects, 1u);
  EXPECT_EQ(c.retries, 0u);  // the closed connection was seen before anything was sent
  const auto log = log_text();
  const std::string url_a = "http://127.0.0.1:" + std::to_string(a.port());
  EXPECT_NE(log.find("POST " + url_a +
                     "/x: the server closed the connection before the request; "
                     "resolving TandemLlm again"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("TandemLlm is at http://127.0.0.1:" + std::to_string(b.port())),
            std::string::npos)
      << log;
}

// The server ends and another program takes its port at once, listening but never answering. The
// old connection's end is not a reason to connect to that port again: the client asks where the
// server is and reaches its new port, instead of waiting out the read timeout on the squatter.
TEST_F(LlmClientTest, AClosedConnectionIsNeverReopenedToTheOldPort) {
  ScriptedServer a(answer("A"));
  ScriptedServer b(answer("B"));
  ScriptedResolver resolver;
  resolver.publish(a.port(), "instance-a");
  auto options = fast_options();
  options.http.read_timeout = 60s;
  LlmClient client(resolver, options);
  EXPECT_EQ(client.post_json("/x", "{}", {}).body, R"({"server":"A"})");

  a.stop();
  auto squatter = testing::try_hold_port(testing::Family::v4, a.port(), testing::Sharing::ask);
  ASSERT_TRUE(squatter) << "could not take the old port " << a.port();
  resolver.publish(b.port(), "instance-b");
  const auto start = Clock::now();
  EXPECT_EQ(client.post_json("/x", "{}", {}).body, R"({"server":"B"})");
  EXPECT_LT(since(start), kBound) << "the request went to the squatter on the old port";
  EXPECT_EQ(client.counters().retries, 0u);
}

TEST_F(LlmClientTest, WaitsForTheServerWhenItCannotBeResolvedAfterAFailure) {
  ScriptedServer a(answer("A"));
  ScriptedServer b(answer("B"));
  ScriptedResolver resolver;
  resolver.publish(a.port());
  LlmClient client(resolver, fast_options());
  client.post_json("/x", "{}", {});
  a.stop();
  resolver.withdraw("TandemLlm is starting");
  // Ready again while the client waits on the server's signal.
  resolver.on_wait([&] { resolver.publish(b.port()); });
  EXPECT_EQ(client.post_json("/x", "{}", {}).body, R"({"server":"B"})");
  EXPECT_GE(resolver.waits(), 1);
  EXPECT_NE(log_text().find("ms for TandemLlm to be ready: TandemLlm is starting"),
            std::string::npos);
}

TEST_F(LlmClientTest, UnreadyServerPastTheResolveBoundIsAClearError) {
  ScriptedResolver resolver;
  resolver.withdraw("TandemLlm is starting (loading the model)");
  auto options = fast_options();
  options.resolve_timeout = 300ms;
  LlmClient client(resolver, options);
  const auto start = Clock::now();
  try {
    client.post_json("/v1/completions", "{}", {});
    FAIL() << "no error";
  } catch (const ServerUnavailable& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("POST /v1/completions"), std::string::npos) << what;
    EXPECT_NE(what.find("not ready within 300 ms: TandemLlm is starting (loading the model)"),
              std::string::npos)
        << what;
  }
  const auto took = since(start);
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, kBound);
  EXPECT_FALSE(client.endpoint());
}

TEST_F(LlmClientTest, RetryAfterOf503IsHonoured) {
  std::atomic<int> calls{0};
  ScriptedServer server([&](const httplib::Request&, httplib::Response& res) {
    if (calls++ == 0) {
      res.set_header("Retry-After", "1");
      reply_json(res, 503, R"({"error":{"message":"queue is full","type":"server_error"}})");
      return;
    }
    reply_json(res, 200, "{}");
  });
  ScriptedResolver resolver;
  resolver.publish(server.port());
  auto options = fast_options();
  options.backoff_max = 5s;  // above Retry-After; base 1 ms would retry at once
  LlmClient client(resolver, options);
  const auto start = Clock::now();
  EXPECT_EQ(client.post_json("/x", "{}", {}).status, 200);
  const auto took = since(start);
  EXPECT_GE(took, 1000ms);
  EXPECT_LT(took, 1000ms + kBound);
  EXPECT_EQ(server.hits(), 2);
  EXPECT_EQ(client.counters().reconnects, 0u);
  EXPECT_NE(log_text().find("answered 503: queue is full (attempt 1/4)"), std::string::npos);
}

TEST_F(LlmClientTest, RetryAfterIsCappedByBackoffMax) {
  std::atomic<int> calls{0};
  ScriptedServer server([&](const httplib::Request&, httplib::Response& res) {
    if (calls++ == 0) {
      res.set_header("Retry-After", "3600");
      reply_json(res, 503, R"({"error":{"message":"queue is full"}})");
      return;
    }
    reply_json(res, 200, "{}");
  });
  ScriptedResolver resolver;
  resolver.publish(server.port());
  auto options = fast_options();
  options.backoff_max = 300ms;
  LlmClient client(resolver, options);
  const auto start = Clock::now();
  EXPECT_EQ(client.post_json("/x", "{}", {}).status, 200);
  const auto took = since(start);
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, kBound);
}

TEST_F(LlmClientTest, ServerErrorsAreRetriedWithBackoff) {
  std::atomic<int> calls{0};
  ScriptedServer server([&](const httplib::Request&, httplib::Response& res) {
    switch (calls++) {
      case 0:
        reply_json(res, 500, R"({"error":{"message":"decode failed"}})");
        return;
      case 1:
        reply_json(res, 503, "no json and no Retry-After");
        return;
      default:
        reply_json(res, 200, R"({"ok":true})");
    }
  });
  ScriptedResolver resolver;
  resolver.publish(server.port());
  LlmClient client(resolver, fast_options());
  EXPECT_EQ(client.post_json("/x", "{}", {}).body, R"({"ok":true})");
  EXPECT_EQ(server.hits(), 3);
  EXPECT_EQ(client.counters().retries, 2u);
  EXPECT_EQ(resolver.resolves(), 1);  // the server answered: no reason to resolve again
}

TEST_F(LlmClientTest, ClientErrorIsNotRetriedAndCarriesTheServersMessage) {
  ScriptedServer server([](const httplib::Request&, httplib::Response& res) {
    reply_json(res, 400,
               R"({"error":{"message":"'echo': echoing the prompt is not supported",)"
               R"("type":"invalid_request_error","code":"echo"}})");
  });
  ScriptedResolver resolver;
  resolver.publish(server.port());
  LlmClient client(resolver, fast_options());
  try {
    client.post_json("/v1/completions", "{}", {});
    FAIL() << "no error";
  } catch (const RequestRefused& e) {
    EXPECT_EQ(e.status(), 400);
    const std::string what = e.what();
    EXPECT_NE(what.find("refused with 400: 'echo': echoing the prompt is not supported"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("/v1/completions"), std::string::npos) << what;
  }
  EXPECT_EQ(server.hits(), 1);
  EXPECT_EQ(client.counters().retries, 0u);
}

TEST_F(LlmClientTest, ExhaustedRetriesNameTheAttemptsAndTheLastFailure) {
  ScriptedResolver resolver;
  const auto dead_port = testing::find_free_ports(1);  // nothing listens there
  resolver.publish(dead_port);
  LlmClient client(resolver, fast_options(2));
  try {
    client.post_json("/x", "{}", {});
    FAIL() << "no error";
  } catch (const ServerUnavailable& e) {
    const std::string what = e.what();
    const std::string url = "http://127.0.0.1:" + std::to_string(dead_port);
    EXPECT_NE(what.find("gave up after 3 attempt(s) over "), std::string::npos) << what;
    EXPECT_NE(what.find("last failure: POST " + url + "/x"), std::string::npos) << what;
    EXPECT_NE(what.find("last resolve: resolved " + url), std::string::npos) << what;
  }
  EXPECT_EQ(client.counters().reconnects, 3u);
  EXPECT_EQ(client.counters().retries, 2u);
  EXPECT_FALSE(client.endpoint());  // the next call resolves again
  const auto log = log_text();
  EXPECT_NE(log.find("(attempt 3/3); giving up"), std::string::npos) << log;

  // Also when the last failure is the server's own answer.
  ScriptedServer failing([](const httplib::Request&, httplib::Response& res) {
    reply_json(res, 500, R"({"error":{"message":"model exploded"}})");
  });
  resolver.publish(failing.port());
  try {
    client.post_json("/x", "{}", {});
    FAIL() << "no error";
  } catch (const ServerUnavailable& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("gave up after 3 attempt(s)"), std::string::npos) << what;
    EXPECT_NE(what.find("answered 500: model exploded"), std::string::npos) << what;
  }
  EXPECT_EQ(failing.hits(), 3);
}

// The client runs on the test's main thread and the stop comes from another: with MinGW g++ 12, a
// thread that used cpp-httplib's client corrupts the heap when it exits (its thread_local
// std::regex), so no test thread that ends before the process may make HTTP calls.
class Stopper {
 public:
  // Requests the stop once `signal` is ready; records when.
  explicit Stopper(std::future<void> signal)
      : thread_([this, signal = std::move(signal)]() mutable {
          if (signal.wait_for(kBound) != std::future_status::ready) return;
          stopped_at_ = Clock::now();
          source_.request_stop();
        }) {}
  ~Stopper() { thread_.join(); }
  std::stop_token token() const { return source_.get_token(); }
  // Only after the stop was seen (the thread wrote it before request_stop()).
  Clock::time_point stopped_at() const { return stopped_at_; }

 private:
  std::stop_source source_;
  Clock::time_point stopped_at_;
  std::thread thread_;
};

TEST_F(LlmClientTest, StopDuringBackoffEndsPromptly) {
  std::promise<void> first_request;
  std::atomic<bool> answered{false};
  ScriptedServer server([&](const httplib::Request&, httplib::Response& res) {
    res.set_header("Retry-After", "60");
    reply_json(res, 503, R"({"error":{"message":"queue is full"}})");
    if (!answered.exchange(true)) first_request.set_value();
  });
  ScriptedResolver resolver;
  resolver.publish(server.port());
  auto options = fast_options();
  options.backoff_max = 60s;
  LlmClient client(resolver, options);
  Stopper stopper(first_request.get_future());
  const auto start = Clock::now();
  EXPECT_THROW(client.post_json("/x", "{}", stopper.token()), Stopped);
  const auto end = Clock::now();
  EXPECT_LT(end - start, kBound);  // not the 60 s Retry-After
  EXPECT_LT(end - stopper.stopped_at(), 2s);
  EXPECT_EQ(server.hits(), 1);
}

TEST_F(LlmClientTest, StopWhileWaitingForTheServerEndsPromptly) {
  ScriptedResolver resolver;
  resolver.withdraw("TandemLlm is starting");
  std::promise<void> waiting;
  std::atomic<bool> once{false};
  resolver.on_wait([&] {
    if (!once.exchange(true)) waiting.set_value();
  });
  auto options = fast_options();
  options.resolve_timeout = 60s;
  LlmClient client(resolver, options);
  Stopper stopper(waiting.get_future());
  const auto start = Clock::now();
  EXPECT_THROW(client.post_json("/x", "{}", stopper.token()), Stopped);
  const auto end = Clock::now();
  EXPECT_LT(end - start, kBound);
  EXPECT_LT(end - stopper.stopped_at(), 2s);
}

TEST_F(LlmClientTest, AlreadyStoppedThrowsWithoutCallingTheServer) {
  ScriptedServer server(answer("A"));
  ScriptedResolver resolver;
  resolver.publish(server.port());
  LlmClient client(resolver, fast_options());
  std::stop_source stop;
  stop.request_stop();
  EXPECT_THROW(client.post_json("/x", "{}", stop.get_token()), Stopped);
  EXPECT_EQ(server.hits(), 0);
}

}  // namespace
}  // namespace tandem::trainer
