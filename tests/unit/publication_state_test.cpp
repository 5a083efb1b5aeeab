#include "common/discovery/publication_state.h"

#include <gtest/gtest.h>

#include <future>
#include <nlohmann/json.hpp>

#include "common/discovery/protocol.h"
#include "common/discovery/request_handler.h"

namespace tandem::discovery {
namespace {

using namespace std::chrono_literals;

// Bounds for things that should happen at once; generous for a loaded 2-core machine under ASan.
constexpr auto kPrompt = 10s;

Endpoint identity() {
  Endpoint e;
  e.pid = 77;
  e.instance_id = "instance-1";
  e.model = "tandem-tiny";
  e.pipe_name = "\\\\.\\pipe\\tandem-llm";
  return e;
}

Endpoint ready_on(std::uint16_t port) {
  Endpoint e = identity();
  e.port = port;
  e.url = loopback_url(port);
  e.addresses = loopback_addresses();
  return e;
}

nlohmann::json answer(const PublicationState& state, std::string_view request,
                      std::stop_token stop = {}) {
  return nlohmann::json::parse(handle_request(state, request, stop));
}

TEST(PublicationState, StartsWithoutAnAddressEvenIfGivenOne) {
  PublicationState state(ready_on(9000));  // state starting: the port must not leak
  EXPECT_EQ(state.current().state, State::starting);
  EXPECT_EQ(state.current().port, 0);
  EXPECT_EQ(state.current().pid, 77u);
}

TEST(PublicationState, ReadyAnswersWaitAtOnce) {
  PublicationState state(identity());
  state.publish_ready(ready_on(8031));
  auto ready = state.wait_until_ready(0ms);
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->state, State::ready);
  EXPECT_EQ(ready->port, 8031);
}

TEST(PublicationState, WaitTimesOutWhileStarting) {
  PublicationState state(identity());
  EXPECT_FALSE(state.wait_until_ready(20ms));
  EXPECT_EQ(state.waiting(), 0u);
}

TEST(PublicationState, WaitIsReleasedTheMomentAnotherThreadPublishes) {
  PublicationState state(identity());
  auto waiter = std::async(std::launch::async, [&] { return state.wait_until_ready(60s); });
  ASSERT_TRUE(state.wait_for_waiters(1, kPrompt)) << "the waiter never started waiting";
  EXPECT_EQ(waiter.wait_for(0s), std::future_status::timeout) << "wait returned before ready";
  state.publish_ready(ready_on(8032));
  ASSERT_EQ(waiter.wait_for(kPrompt), std::future_status::ready) << "publish did not wake it";
  auto ready = waiter.get();
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->port, 8032);
}

TEST(PublicationState, WithdrawReleasesWaitersWithNothing) {
  PublicationState state(identity());
  auto waiter = std::async(std::launch::async, [&] { return state.wait_until_ready(60s); });
  ASSERT_TRUE(state.wait_for_waiters(1, kPrompt));
  state.withdraw();
  ASSERT_EQ(waiter.wait_for(kPrompt), std::future_status::ready);
  EXPECT_FALSE(waiter.get());
  EXPECT_EQ(state.current().state, State::stopping);
}

TEST(PublicationState, StopTokenReleasesWaiters) {
  PublicationState state(identity());
  std::stop_source stop;
  auto waiter =
      std::async(std::launch::async, [&] { return state.wait_until_ready(60s, stop.get_token()); });
  ASSERT_TRUE(state.wait_for_waiters(1, kPrompt));
  stop.request_stop();
  ASSERT_EQ(waiter.wait_for(kPrompt), std::future_status::ready);
  EXPECT_FALSE(waiter.get());
  EXPECT_EQ(state.current().state, State::starting);  // the state itself is untouched
}

TEST(PublicationState, LeavingReadyDropsTheAddress) {
  PublicationState state(identity());
  state.publish_ready(ready_on(8031));
  state.set_state(State::stopping);
  Endpoint now = state.current();
  EXPECT_EQ(now.port, 0);
  EXPECT_TRUE(now.url.empty());
  EXPECT_TRUE(now.addresses.empty());
  EXPECT_EQ(now.instance_id, "instance-1");
}

TEST(HandleRequest, ResolveWhileStartingIsOkWithStateAndNoPort) {
  PublicationState state(identity());
  auto j = answer(state, R"({"v":1,"op":"resolve"})");
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["state"], "starting");
  EXPECT_FALSE(j.contains("port"));
  EXPECT_FALSE(j.contains("url"));
  EXPECT_EQ(j["instance"], "instance-1");
}

TEST(HandleRequest, ResolveAndStatusWhenReady) {
  PublicationState state(identity());
  state.publish_ready(ready_on(8031));
  for (auto op : {"resolve", "status"}) {
    auto j = answer(state, std::string(R"({"v":1,"op":")") + op + "\"}");
    EXPECT_EQ(j["state"], "ready") << op;
    EXPECT_EQ(j["port"], 8031) << op;
    EXPECT_EQ(j["url"], "http://127.0.0.1:8031") << op;
    EXPECT_EQ(j["addresses"], nlohmann::json({"127.0.0.1", "::1"})) << op;
  }
}

TEST(HandleRequest, WaitTimesOutWithTheTimeoutCode) {
  PublicationState state(identity());
  auto j = answer(state, R"({"v":1,"op":"wait","timeout_ms":10})");
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["error"]["code"], "timeout");
  EXPECT_EQ(j["error"]["message"], "not ready within 10 ms (state: starting)");
}

TEST(HandleRequest, WaitIsAnsweredWhenAnotherThreadPublishes) {
  PublicationState state(identity());
  auto waiter = std::async(std::launch::async, [&] {
    return answer(state, R"({"v":1,"op":"wait","timeout_ms":60000})");
  });
  ASSERT_TRUE(state.wait_for_waiters(1, kPrompt));
  state.publish_ready(ready_on(8040));
  ASSERT_EQ(waiter.wait_for(kPrompt), std::future_status::ready);
  auto j = waiter.get();
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["port"], 8040);
}

TEST(HandleRequest, WaitWhileStoppingOrStoppedIsNotReadyAtOnce) {
  PublicationState state(identity());
  state.set_state(State::stopped);
  auto j = answer(state, R"({"v":1,"op":"wait","timeout_ms":60000})");
  EXPECT_EQ(j["error"]["code"], "not_ready");
  EXPECT_EQ(j["error"]["message"], "the server is stopped and will not turn ready; resolve again");
}

TEST(HandleRequest, StopInterruptsAWait) {
  PublicationState state(identity());
  std::stop_source stop;
  auto waiter = std::async(std::launch::async, [&] {
    return answer(state, R"({"v":1,"op":"wait","timeout_ms":60000})", stop.get_token());
  });
  ASSERT_TRUE(state.wait_for_waiters(1, kPrompt));
  stop.request_stop();
  ASSERT_EQ(waiter.wait_for(kPrompt), std::future_status::ready);
  auto j = waiter.get();
  EXPECT_EQ(j["error"]["code"], "not_ready");
  EXPECT_EQ(j["error"]["message"], "the server is shutting down");
}

TEST(HandleRequest, MalformedIsBadRequest) {
  PublicationState state(identity());
  auto j = answer(state, R"({"v":1,"op":"wait","timeout_ms":"soon"})");
  EXPECT_EQ(j["v"], 1);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["error"]["code"], "bad_request");
  EXPECT_EQ(j["error"]["message"],
            "field 'timeout_ms': expected an integer from 0 to 86400000, got a string");
  EXPECT_EQ(answer(state, std::string("\x01\x02\xff", 3))["error"]["code"], "bad_request");
  EXPECT_EQ(answer(state, R"({"v":9,"op":"resolve"})")["error"]["code"], "unsupported_version");
}

}  // namespace
}  // namespace tandem::discovery
