// An idle HttpServer costs nothing: its accept loops, connection gate and workers wait on their
// sockets and events without a timeout (issue 18: httplib's Windows accept loop woke every
// millisecond, ~10 % of a core under Wine).
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "service/http/http_server.h"
#include "tests/support/loopback_socket.h"
#include "tests/support/process_usage.h"
#include "tests/support/raw_http_client.h"

namespace tandem::http {
namespace {

using namespace std::chrono_literals;

TEST(HttpServerIdle, AnIdleServerUsesNoCpuAndNoThreadWakesUp) {
  HttpServer server({}, [](const Request&) { return Response{}; });
  const auto port = server.listen(testing::find_free_ports(1), 1);
  server.start();
  // Every thread has run. The server closes each connection itself ("Connection: close") and
  // the client waits to see that close, so no close is left for the server to handle in the
  // window, however late a loaded machine schedules it.
  for (auto family : {testing::Family::v4, testing::Family::v6}) {
    testing::RawHttpConnection c(testing::loopback(family), port);
    ASSERT_EQ(c.request("GET", "/", {}, "Connection: close\r\n").status, 200);
    ASSERT_TRUE(c.closed_by_server());
  }
  const auto before = testing::process_usage();
  std::this_thread::sleep_for(2s);  // the window measured, not a synchronisation
  const auto after = testing::process_usage();
  EXPECT_LE(after.cpu - before.cpu, 20ms) << "CPU used by an idle server in 2 s";
  if (before.sleeps >= 0) {
    // This thread's own sleep is one; a worker finishing its last answer at most two more.
    EXPECT_LE(after.sleeps - before.sleeps, 3) << "threads woke while the server was idle";
  }
  server.stop();
}

}  // namespace
}  // namespace tandem::http
