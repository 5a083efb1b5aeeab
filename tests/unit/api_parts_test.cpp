// The API's small parts on their own: the SSE writer, the Prometheus text and the guards.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "service/api/guards.h"
#include "service/api/metrics.h"
#include "service/api/sse.h"

namespace tandem::api {
namespace {

TEST(Sse, EventsAndDone) {
  std::vector<std::string> written;
  http::ChunkWriter write = [&](std::string_view c) {
    written.emplace_back(c);
    return true;
  };
  SseWriter sse(write);
  EXPECT_TRUE(sse.event(Json{{"a", "line\nbreak"}}));
  EXPECT_TRUE(sse.done());
  ASSERT_EQ(written.size(), 2u);
  EXPECT_EQ(written[0], "data: {\"a\":\"line\\nbreak\"}\n\n");
  EXPECT_EQ(written[1], "data: [DONE]\n\n");
}

TEST(Sse, NothingIsWrittenOnceTheClientIsGone) {
  int calls = 0;
  http::ChunkWriter write = [&](std::string_view) { return ++calls < 2; };
  SseWriter sse(write);
  EXPECT_TRUE(sse.event(Json::object()));
  EXPECT_FALSE(sse.event(Json::object()));
  EXPECT_FALSE(sse.open());
  EXPECT_FALSE(sse.done());
  EXPECT_EQ(calls, 2);
}

TEST(Metrics, HistogramIsCumulativeAndLabelsEscaped) {
  Metrics m;
  m.record_request("/a", 200, 0.001);
  m.record_request("/a", 200, 0.2);
  m.record_request("/a\"b", 500, 100);
  m.record_error("x\\y");
  inference::CompletionBackend::Stats stats{4, 2, 7, 0, 0, 5, 3, 4096};
  const std::string text = m.render(&stats);
  for (const char* line :
       {"# TYPE tandem_request_duration_seconds histogram\n",
        "tandem_request_duration_seconds_bucket{le=\"0.005\"} 1\n",
        "tandem_request_duration_seconds_bucket{le=\"0.1\"} 1\n",
        "tandem_request_duration_seconds_bucket{le=\"0.25\"} 2\n",
        "tandem_request_duration_seconds_bucket{le=\"60\"} 2\n",
        "tandem_request_duration_seconds_bucket{le=\"+Inf\"} 3\n",
        "tandem_request_duration_seconds_count 3\n",
        "tandem_requests_total{route=\"/a\",status=\"200\"} 2\n",
        "tandem_requests_total{route=\"/a\\\"b\",status=\"500\"} 1\n",
        "tandem_errors_total{code=\"x\\\\y\"} 1\n", "tandem_slots 4\n", "tandem_slots_busy 2\n",
        "tandem_queue_depth 7\n", "tandem_cache_ram_hits_total 5\n",
        "tandem_cache_ram_misses_total 3\n", "tandem_cache_ram_bytes 4096\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << "missing: " << line << "in:\n" << text;
  }
  EXPECT_NE(Metrics().render(nullptr).find("tandem_model_loaded 0\n"), std::string::npos);
}

TEST(Guards, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal(std::string_view("abc\0", 4), "abc"));
  EXPECT_FALSE(constant_time_equal("", "a"));
}

TEST(Guards, KeyHintShowsOnlyTheLastFourOfLongKeys) {
  EXPECT_EQ(key_hint("sk-0123456789abcd"), "…abcd");
  EXPECT_EQ(key_hint("short-key"), "…");
}

TEST(Guards, PresentedKey) {
  http::Request r;
  EXPECT_FALSE(presented_key(r).has_value());
  r.headers["X-Api-Key"] = "k1";
  EXPECT_EQ(presented_key(r), "k1");
  r.headers["Authorization"] = "Bearer  k2 ";
  EXPECT_EQ(presented_key(r), "k2");
  r.headers["Authorization"] = "Basic dXNlcjpwYXNz";
  EXPECT_EQ(presented_key(r), "k1");
}

}  // namespace
}  // namespace tandem::api
