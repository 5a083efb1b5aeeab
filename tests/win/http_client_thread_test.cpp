// Threads that make HttpClient requests and then exit (issue #7). With MinGW g++ 12, cpp-httplib's
// thread_local objects (a std::regex for the status line, among others) are destroyed after the
// emutls block holding them was freed, so a thread that made a request corrupted the heap when it
// exited; the process then crashed at a later allocation or at its end.
#include <windows.h>

#include <gtest/gtest.h>
#include <malloc.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "common/http_client.h"
#include "tests/support/loopback_socket.h"

namespace tandem {
namespace {

using namespace std::chrono_literals;
using testing::Family;

// Answers `connections` requests with a canned 200 on a plain socket, then stops listening. No
// HTTP library: its own thread may exit without touching the defect under test.
class CannedServer {
 public:
  explicit CannedServer(int connections)
      : port_(testing::find_free_ports(1)),
        listener_(testing::hold_port(Family::v4, port_)),
        served_(
            std::async(std::launch::async, [this, connections] { return serve(connections); })) {}

  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // How many it answered; each of its waits is bounded, so this is too.
  int wait() {
    if (served_.wait_for(60s) != std::future_status::ready) {
      ADD_FAILURE() << "the canned server did not finish within 60 s";
    }
    return served_.get();
  }

 private:
  int serve(int connections) {
    int answered = 0;
    for (; answered < connections; ++answered) {
      fd_set readable;
      FD_ZERO(&readable);
      FD_SET(listener_.native(), &readable);
      timeval bound{10, 0};
      if (select(0, &readable, nullptr, nullptr, &bound) != 1) break;
      testing::Socket c(::accept(listener_.native(), nullptr, nullptr));
      if (!c.valid()) break;
      const DWORD timeout = 10000;
      setsockopt(c.native(), SOL_SOCKET, SO_RCVTIMEO, reinterpret_cast<const char*>(&timeout),
                 sizeof(timeout));
      std::string request;
      while (request.find("\r\n\r\n") == std::string::npos && c.receive(request)) {
      }
      c.send_all("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
    }
    listener_.close();
    return answered;
  }

  std::uint16_t port_;
  testing::Socket listener_;
  std::future<int> served_;
};

// A crash ends the process with a non-zero code (tests/support/crash_exit_win.cpp, linked into
// every Windows test), so the corruption this test looks for fails it.

bool heap_is_valid() {
  return HeapValidate(reinterpret_cast<HANDLE>(_get_heap_handle()), 0, nullptr) &&
         HeapValidate(GetProcessHeap(), 0, nullptr);
}

TEST(HttpClientThreadTest, ThreadsThatMadeRequestsExitWithoutCorruptingTheHeap) {
  constexpr int kThreads = 8;
  CannedServer server(kThreads);
  const std::string refused = "http://127.0.0.1:" + std::to_string(testing::find_free_ports(1));
  std::atomic<int> answers{0}, refusals{0};
  for (int i = 0; i < kThreads; ++i) {
    // One thread per round, ended before the next: each exit runs its thread_local destructors.
    std::thread([&] {
      HttpClientOptions options;
      options.connect_timeout = 2s;
      options.read_timeout = 10s;
      if (HttpClient(server.url(), options).get("/v1/models").body == "ok") ++answers;
      try {
        HttpClient(refused, options).get("/v1/models");
      } catch (const ConnectionError&) {
        ++refusals;  // the server gone: the path the stop/start loop takes
      }
    }).join();
    ASSERT_TRUE(heap_is_valid()) << "heap corrupted after thread " << i << " exited";
  }
  EXPECT_EQ(server.wait(), kThreads);
  EXPECT_EQ(answers.load(), kThreads);
  EXPECT_EQ(refusals.load(), kThreads);
  // Allocations of many sizes after the exits find a consistent heap.
  std::vector<std::string> churn;
  for (std::size_t n = 1; n < 4096; n += 37) churn.emplace_back(n, 'x');
  EXPECT_TRUE(heap_is_valid());
}

TEST(HttpClientThreadTest, ARequestFromAnExitedThreadsClientStillFailsCleanly) {
  // A connection error raised on the request thread reaches the caller as ConnectionError.
  const std::string refused = "http://127.0.0.1:" + std::to_string(testing::find_free_ports(1));
  auto failed = std::async(std::launch::async, [&] {
    try {
      HttpClientOptions options;
      options.connect_timeout = 2s;
      HttpClient(refused, options).get("/health");
      return std::string("no error");
    } catch (const ConnectionError& e) {
      return std::string(e.what());
    }
  });
  ASSERT_EQ(failed.wait_for(30s), std::future_status::ready);
  const std::string what = failed.get();
  EXPECT_NE(what.find("GET " + refused + "/health"), std::string::npos) << what;
  EXPECT_TRUE(heap_is_valid());
}

}  // namespace
}  // namespace tandem
