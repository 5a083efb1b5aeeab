#include "service/http/http_server.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <future>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>

#include "common/error.h"
#include "common/log.h"
#include "service/http/connection.h"
#include "tests/support/loopback_socket.h"
#include "tests/support/raw_http_client.h"
#include "tests/support/temp_dir.h"

namespace tandem::http {
namespace {

using namespace std::chrono_literals;
using testing::Family;
using testing::RawHttpConnection;

constexpr auto kBound = 10s;  // every wait in these tests ends with a failure after this

Response text(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "text/plain";
  r.body = std::move(body);
  return r;
}

// GET /health; POST /echo answers the body and what the server saw; GET /throw throws.
Response basic_routes(const Request& req) {
  if (req.path == "/health") {
    Response r;
    r.body = R"({"status":"ok"})";
    r.headers["X-Tandem-Instance"] = "test-instance";
    return r;
  }
  if (req.path == "/echo") {
    Response r = text(200, req.body);
    r.headers["X-Method"] = req.method;
    r.headers["X-Remote"] = req.remote_address;
    r.headers["X-Seen"] = req.header("x-test").value_or("(none)");
    return r;
  }
  if (req.path == "/throw") throw std::runtime_error("boom in handler");
  Response r = text(404, "handler says no");
  return r;
}

nlohmann::json error_of(const testing::HttpReply& reply) {
  EXPECT_EQ(reply.header("content-type"), "application/json");
  return nlohmann::json::parse(reply.body).at("error");
}

class HttpServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    log_dir_ = new testing::TempDir();
    log::Options o;
    o.directory = log_dir_->path();
    o.file_stem = "http";
    log::init(o);
  }
  static void TearDownTestSuite() {
    log::shutdown();
    delete log_dir_;
  }

  // Declare the returned server after anything its handler refers to, so it stops first.
  static std::unique_ptr<HttpServer> serve(Handler handler, ServerOptions options = {}) {
    auto server = std::make_unique<HttpServer>(options, std::move(handler));
    server->listen(testing::find_free_ports(1), 1);
    server->start();
    return server;
  }

  static std::string log_text() {
    std::ifstream in(log_dir_->path() / "http.log");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  static testing::TempDir* log_dir_;
};

testing::TempDir* HttpServerTest::log_dir_ = nullptr;

void expect_serves_both_families(std::uint16_t port) {
  for (auto family : {Family::v4, Family::v6}) {
    RawHttpConnection c(testing::loopback(family), port);
    auto reply = c.request("GET", "/health");
    EXPECT_EQ(reply.status, 200) << testing::loopback(family);
    EXPECT_EQ(reply.body, R"({"status":"ok"})");
  }
}

TEST_F(HttpServerTest, AHandlerSeesItsClientGo) {
  std::promise<bool> saw;
  auto seen = saw.get_future();
  auto server = serve([&](const Request& req) {
    // Stands in for a long generation that checks its client between tokens.
    const auto until = std::chrono::steady_clock::now() + kBound;
    bool gone = false;
    while (!gone && std::chrono::steady_clock::now() < until) gone = req.client_gone();
    saw.set_value(gone);
    return text(200, "late");
  });
  {
    RawHttpConnection c(testing::loopback(Family::v4), server->port());
    c.send_request("POST", "/slow", "{}");
  }  // the client closes its socket without reading the answer
  ASSERT_EQ(seen.wait_for(kBound + 5s), std::future_status::ready);
  EXPECT_TRUE(seen.get()) << "the handler never saw its client go";
}

TEST_F(HttpServerTest, SamePortAnswersOnIpv4Ipv6AndLocalhost) {
  auto server = serve(basic_routes);
  const auto port = server->port();
  for (auto family : {Family::v4, Family::v6}) {
    RawHttpConnection c(testing::loopback(family), port);
    auto reply = c.request("POST", "/echo", "hello", "X-Test: one\r\n");
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.body, "hello");
    EXPECT_EQ(reply.header("x-remote"), testing::loopback(family));
    EXPECT_EQ(reply.header("x-seen"), "one");
    EXPECT_EQ(reply.header("x-method"), "POST");
  }
  auto localhost = testing::resolve("localhost");
  ASSERT_FALSE(localhost.empty());
  for (const auto& ip : localhost) {
    RawHttpConnection c(ip, port);
    EXPECT_EQ(c.request("GET", "/health").status, 200) << "localhost as " << ip;
  }
}

struct HeldCase {
  const char* name;
  bool v4;
  bool v6;
};
void PrintTo(const HeldCase& c, std::ostream* out) {
  *out << c.name;
}

class PortFallbackTest : public HttpServerTest, public ::testing::WithParamInterface<HeldCase> {};

TEST_P(PortFallbackTest, SkipsPortHeldByAnotherSocket) {
  const auto base = testing::find_free_ports(3);
  std::optional<testing::Socket> held_v4, held_v6;
  if (GetParam().v4) held_v4 = testing::hold_port(Family::v4, base);
  if (GetParam().v6) held_v6 = testing::hold_port(Family::v6, base);

  HttpServer server({}, basic_routes);
  ASSERT_EQ(server.listen(base, 3), base + 1);
  server.start();
  expect_serves_both_families(static_cast<std::uint16_t>(base + 1));

  // The address that was free on the held port was let go again, not kept half-bound.
  if (!GetParam().v4) {
    EXPECT_FALSE(testing::try_connect("127.0.0.1", base).has_value());
  }
  if (!GetParam().v6) {
    EXPECT_FALSE(testing::try_connect("::1", base).has_value());
  }
}

INSTANTIATE_TEST_SUITE_P(HeldOn, PortFallbackTest,
                         ::testing::Values(HeldCase{"Ipv4Only", true, false},
                                           HeldCase{"Ipv6Only", false, true},
                                           HeldCase{"Both", true, true}),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST_F(HttpServerTest, NoOtherSocketCanShareTheBoundPort) {
  auto server = serve(basic_routes);
  const auto port = server->port();
  for (auto family : {Family::v4, Family::v6}) {
    EXPECT_FALSE(testing::try_hold_port(family, port, testing::Sharing::ask).has_value())
        << testing::loopback(family) << " port " << port << " could be shared";
    EXPECT_FALSE(testing::try_hold_port(family, port).has_value()) << testing::loopback(family);
  }
  expect_serves_both_families(port);
}

TEST_F(HttpServerTest, WholeRangeTakenNamesEveryPortAndReason) {
  const auto base = testing::find_free_ports(3);
  auto a = testing::hold_port(Family::v4, base);
  auto b = testing::hold_port(Family::v6, static_cast<std::uint16_t>(base + 1));
  auto c4 = testing::hold_port(Family::v4, static_cast<std::uint16_t>(base + 2));
  auto c6 = testing::hold_port(Family::v6, static_cast<std::uint16_t>(base + 2));

  HttpServer server({}, basic_routes);
  const auto p = [&](int i) { return std::to_string(base + i); };
  try {
    server.listen(base, 3);
    FAIL() << "listen should have thrown";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "no free port in " + p(0) + "-" + p(2) + ": " + p(0) +
                                         " (127.0.0.1: address in use), " + p(1) +
                                         " (::1: address in use), " + p(2) +
                                         " (127.0.0.1: address in use, ::1: address in use)");
  }
  EXPECT_EQ(server.port(), 0);
  // Nothing stays bound after the failure: the free halves can be taken by anyone.
  EXPECT_TRUE(testing::try_hold_port(Family::v6, base).has_value());
  EXPECT_TRUE(testing::try_hold_port(Family::v4, static_cast<std::uint16_t>(base + 1)).has_value());
}

TEST_F(HttpServerTest, MisuseIsReported) {
  HttpServer server({}, basic_routes);
  EXPECT_THROW(server.start(), Error);
  EXPECT_THROW(server.listen(testing::find_free_ports(1), 0), Error);
  EXPECT_THROW(server.listen(0, 5), Error);
  const auto port = server.listen(testing::find_free_ports(1), 1);
  EXPECT_THROW(server.listen(port, 1), Error);
  server.stop();
  EXPECT_EQ(server.port(), 0);
  // Stopped before start: the port is free again.
  EXPECT_TRUE(testing::try_hold_port(Family::v4, port).has_value());
}

TEST_F(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  ServerOptions options;
  options.keep_alive_max_count = 5000;
  auto server = serve(basic_routes, options);
  const auto port = server->port();
  for (auto family : {Family::v4, Family::v6}) {
    RawHttpConnection c(testing::loopback(family), port);
    constexpr int kRequests = 1000;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kRequests; ++i) {
      auto reply = c.request("GET", "/health");
      ASSERT_EQ(reply.status, 200) << "request " << i;
      ASSERT_EQ(reply.header("x-tandem-instance"), "test-instance");
      ASSERT_NE(reply.header("connection"), "close") << "request " << i;
    }
    const auto us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
            .count() /
        kRequests;
    std::cout << "keep-alive GET /health over " << testing::loopback(family) << ": " << us
              << " us per request (" << kRequests << " requests, one connection)\n";
    RecordProperty(family == Family::v4 ? "keep_alive_us_v4" : "keep_alive_us_v6",
                   std::to_string(us));
  }
}

TEST_F(HttpServerTest, KeepAliveMaxCountClosesTheConnection) {
  ServerOptions options;
  options.keep_alive_max_count = 3;
  auto server = serve(basic_routes, options);
  const auto port = server->port();
  RawHttpConnection c("127.0.0.1", port);
  EXPECT_NE(c.request("GET", "/health").header("connection"), "close");
  EXPECT_NE(c.request("GET", "/health").header("connection"), "close");
  EXPECT_EQ(c.request("GET", "/health").header("connection"), "close");
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(HttpServerTest, StreamedResponseArrivesChunkByChunk) {
  std::promise<void> first_seen;
  auto first_seen_future = first_seen.get_future().share();
  auto server = serve([&](const Request&) {
    Response r;
    r.content_type = "text/event-stream";
    r.stream = [first_seen_future](const ChunkWriter& write) {
      write("alpha");
      // The second chunk is made only after the client has the first: no buffering in between.
      if (first_seen_future.wait_for(kBound) != std::future_status::ready) {
        write("client never saw alpha");
        return;
      }
      write("beta");
    };
    return r;
  });

  const auto port = server->port();
  RawHttpConnection c("::1", port);
  c.send_request("GET", "/stream");
  auto reply = c.read_reply([&](const std::string& chunk) {
    if (chunk == "alpha") first_seen.set_value();
    return true;
  });
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("transfer-encoding"), "chunked");
  EXPECT_EQ(reply.header("content-type"), "text/event-stream");
  EXPECT_EQ(reply.chunks, (std::vector<std::string>{"alpha", "beta"}));
  // The connection stays usable after a stream.
  EXPECT_EQ(c.request("GET", "/health").status, 200);
}

TEST_F(HttpServerTest, ChunkWriterReturnsFalseOnceTheClientHasGone) {
  std::promise<void> client_closed;
  auto client_closed_future = client_closed.get_future().share();
  std::promise<std::string> outcome;
  auto server = serve([&](const Request&) {
    Response r;
    r.stream = [&, client_closed_future](const ChunkWriter& write) {
      if (!write("first")) {
        outcome.set_value("first write failed");
        return;
      }
      if (client_closed_future.wait_for(kBound) != std::future_status::ready) {
        outcome.set_value("client never closed");
        return;
      }
      for (int i = 0; i < 1000; ++i) {
        if (!write("more")) {
          outcome.set_value(write("again") ? "true again after false" : "false");
          return;
        }
      }
      outcome.set_value("writer kept returning true");
    };
    return r;
  });

  const auto port = server->port();
  {
    RawHttpConnection c("127.0.0.1", port);
    c.send_request("GET", "/stream");
    c.read_reply([](const std::string&) { return false; });  // first chunk, then hang up
  }
  client_closed.set_value();
  auto future = outcome.get_future();
  ASSERT_EQ(future.wait_for(kBound), std::future_status::ready);
  EXPECT_EQ(future.get(), "false");
}

TEST_F(HttpServerTest, StopCutsStreamsAfterTheGraceTime) {
  ServerOptions options;
  options.stop_grace = 0ms;
  std::promise<void> streaming;
  std::promise<bool> writer_saw_false;
  auto server = serve(
      [&](const Request&) {
        Response r;
        r.stream = [&](const ChunkWriter& write) {
          write("first");
          streaming.set_value();
          // Empty chunks only probe the client; the loop ends when stop() cuts the stream.
          for (long i = 0; i < 100'000'000; ++i) {
            if (!write({})) {
              writer_saw_false.set_value(true);
              return;
            }
          }
          writer_saw_false.set_value(false);
        };
        return r;
      },
      options);

  const auto port = server->port();
  RawHttpConnection c("127.0.0.1", port);
  c.send_request("GET", "/stream");
  c.read_reply([](const std::string&) { return false; });
  ASSERT_EQ(streaming.get_future().wait_for(kBound), std::future_status::ready);
  auto stopped = std::async(std::launch::async, [&] { server->stop(); });
  ASSERT_EQ(stopped.wait_for(kBound), std::future_status::ready) << "stop() did not return";
  auto saw = writer_saw_false.get_future();
  ASSERT_EQ(saw.wait_for(kBound), std::future_status::ready);
  EXPECT_TRUE(saw.get());
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_FALSE(testing::try_connect("127.0.0.1", port).has_value());
}

TEST_F(HttpServerTest, BodyOverTheLimitGets413InOpenAiShape) {
  ServerOptions options;
  options.max_body_bytes = 1000;
  auto server = serve(basic_routes, options);
  const auto port = server->port();

  {
    RawHttpConnection c("127.0.0.1", port);
    auto reply = c.request("POST", "/echo", std::string(2000, 'x'));
    EXPECT_EQ(reply.status, 413);
    auto error = error_of(reply);
    EXPECT_EQ(error.at("message"), "request body is 2000 bytes; the limit is 1000");
    EXPECT_EQ(error.at("type"), "invalid_request_error");
    EXPECT_EQ(error.at("code"), "body_too_large");
  }
  {
    RawHttpConnection c("::1", port);
    std::string chunked = "3e8\r\n" + std::string(1000, 'y') + "\r\n3e8\r\n" +
                          std::string(1000, 'y') + "\r\n0\r\n\r\n";
    c.socket().send_all("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                        chunked);
    auto reply = c.read_reply();
    EXPECT_EQ(reply.status, 413);
    EXPECT_EQ(error_of(reply).at("message"), "request body is larger than the limit of 1000 bytes");
  }
  {
    RawHttpConnection c("127.0.0.1", port);  // told before sending the body
    c.socket().send_all(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n");
    auto reply = c.read_reply();
    EXPECT_EQ(reply.status, 413);
    EXPECT_EQ(error_of(reply).at("message"), "request body is 5000 bytes; the limit is 1000");
  }
  {
    RawHttpConnection c("127.0.0.1", port);
    auto reply = c.request("POST", "/echo", std::string(1000, 'z'));
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.body, std::string(1000, 'z'));
  }
}

TEST_F(HttpServerTest, FormEncodedBodiesAreNotCappedAtEightKibibytes) {
  auto server = serve(basic_routes);  // curl -d sends JSON as a form unless told otherwise
  const auto port = server->port();
  RawHttpConnection c("127.0.0.1", port);
  std::string body = R"({"prompt":")" + std::string(20000, 'p') + R"("})";
  auto reply =
      c.request("POST", "/echo", body, "Content-Type: application/x-www-form-urlencoded\r\n");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, body);
}

TEST_F(HttpServerTest, HandlerExceptionBecomes500AndServingGoesOn) {
  auto server = serve(basic_routes);
  const auto port = server->port();
  RawHttpConnection c("127.0.0.1", port);
  auto reply = c.request("GET", "/throw");
  EXPECT_EQ(reply.status, 500);
  auto error = error_of(reply);
  EXPECT_EQ(error.at("message"), "internal error: boom in handler");
  EXPECT_EQ(error.at("type"), "server_error");
  EXPECT_EQ(error.at("code"), "internal_error");
  EXPECT_EQ(RawHttpConnection("::1", port).request("GET", "/health").status, 200);
}

TEST_F(HttpServerTest, StreamThatThrowsIsCutShortAndServingGoesOn) {
  auto server = serve([](const Request& req) {
    if (req.path == "/health") return basic_routes(req);
    Response r;
    r.stream = [](const ChunkWriter& write) {
      write("partial");
      throw std::runtime_error("producer broke");
    };
    return r;
  });
  const auto port = server->port();
  RawHttpConnection c("127.0.0.1", port);
  c.send_request("GET", "/stream");
  std::vector<std::string> seen;
  // No terminating chunk: the client must be able to tell a cut stream from a finished one.
  EXPECT_THROW(c.read_reply([&](const std::string& chunk) {
    seen.push_back(chunk);
    return true;
  }),
               std::runtime_error);
  EXPECT_EQ(seen, std::vector<std::string>{"partial"});
  EXPECT_EQ(RawHttpConnection("127.0.0.1", port).request("GET", "/health").status, 200);
}

TEST_F(HttpServerTest, HandlerErrorsPassThroughUntouched) {
  auto server = serve(basic_routes);
  const auto port = server->port();
  auto reply = RawHttpConnection("127.0.0.1", port).request("GET", "/nowhere");
  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(reply.body, "handler says no");
  EXPECT_EQ(reply.header("content-type"), "text/plain");
}

TEST_F(HttpServerTest, RepeatedHeadersReachTheHandlerAsOneList) {
  auto server = serve(basic_routes);
  const auto port = server->port();
  auto reply = RawHttpConnection("127.0.0.1", port)
                   .request("POST", "/echo", "x", "x-test: a\r\nX-TEST: b\r\n");
  EXPECT_EQ(reply.header("x-seen"), "a, b");
}

TEST_F(HttpServerTest, GarbageIsRefusedAndServingGoesOn) {
  auto server = serve(basic_routes);
  const auto port = server->port();
  {
    RawHttpConnection c("127.0.0.1", port);
    c.socket().send_all("\x16\x03\x01 this is not HTTP at all\r\n\r\n");
    std::string answer;
    try {
      while (answer.find("\r\n\r\n") == std::string::npos && c.socket().receive(answer)) {
      }
    } catch (const std::exception&) {
      // a reset is as good as a close
    }
    EXPECT_TRUE(answer.empty() || answer.rfind("HTTP/1.1 400", 0) == 0) << answer;
  }
  EXPECT_EQ(RawHttpConnection("127.0.0.1", port).request("GET", "/health").status, 200);
}

TEST_F(HttpServerTest, LogsOneLinePerRequest) {
  auto server = serve(basic_routes);
  const auto port = server->port();
  RawHttpConnection c("127.0.0.1", port);
  ASSERT_EQ(c.request("GET", "/health").status, 200);
  ASSERT_EQ(c.request("GET", "/nowhere").status, 404);
  server->stop();  // the log line is written before the reply; stop() makes that moot anyway
  auto text = log_text();
  EXPECT_NE(text.find("[info] GET /health 200 "), std::string::npos) << text;
  EXPECT_NE(text.find("[info] GET /nowhere 404 "), std::string::npos) << text;
  EXPECT_NE(text.find(" ms\n"), std::string::npos) << text;
}

TEST(HttpTypesTest, HeaderNamesCompareCaseInsensitively) {
  Request r;
  r.headers["Content-Type"] = "application/json";
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.header("CONTENT-TYPE"), "application/json");
  EXPECT_FALSE(r.header("Content-Length").has_value());
  CaseInsensitiveLess less;
  EXPECT_TRUE(less("a", "B"));
  EXPECT_TRUE(less("A", "b"));
  EXPECT_FALSE(less("ABC", "abc"));
  EXPECT_FALSE(less("abc", "ABC"));
  EXPECT_TRUE(less("ab", "abc"));
}

}  // namespace
}  // namespace tandem::http

namespace tandem::http {
namespace {

// What the connection gate waits for before a worker takes a request (issue #7, slowloris).
TEST(RequestArrivedTest, WaitsForTheHeadAndASmallAnnouncedBody) {
  constexpr std::size_t kBody = 1024;
  constexpr std::size_t kHead = 4096;
  EXPECT_FALSE(request_arrived("", kBody, kHead));
  EXPECT_FALSE(request_arrived("GET /health HTTP/1.1\r\nHost: x\r\n", kBody, kHead));
  EXPECT_TRUE(request_arrived("GET /health HTTP/1.1\r\nHost: x\r\n\r\n", kBody, kHead));
  EXPECT_TRUE(request_arrived("GET /health HTTP/1.1\nHost: x\n\n", kBody, kHead));  // bare LF
  const std::string post = "POST /e HTTP/1.1\r\ncontent-LENGTH:  5 \r\n\r\n";
  EXPECT_FALSE(request_arrived(post, kBody, kHead));
  EXPECT_FALSE(request_arrived(post + "abcd", kBody, kHead));
  EXPECT_TRUE(request_arrived(post + "abcde", kBody, kHead));
  EXPECT_TRUE(request_arrived(post + "abcdeGET / HTTP/1.1\r\n", kBody, kHead));  // pipelined
}

TEST(RequestArrivedTest, HandsOverAtTheHeadWhatAWorkerMustReadOrRefuse) {
  constexpr std::size_t kBody = 1024;
  constexpr std::size_t kHead = 4096;
  const std::string start = "POST /e HTTP/1.1\r\n";
  // Bodies over the limit, chunked ones, and ones sent only after "100 Continue".
  EXPECT_TRUE(request_arrived(start + "Content-Length: 1025\r\n\r\n", kBody, kHead));
  EXPECT_TRUE(request_arrived(start + "Transfer-Encoding: chunked\r\n\r\n5\r\n", kBody, kHead));
  EXPECT_TRUE(
      request_arrived(start + "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n", kBody, kHead));
  // Malformed lengths: httplib answers 400 without reading a body.
  for (const char* length : {"-1", "abc", "1e3", "", "99999999999999999999", "3, 4"}) {
    EXPECT_TRUE(request_arrived(start + "Content-Length: " + length + "\r\n\r\n", kBody, kHead))
        << length;
  }
  EXPECT_TRUE(
      request_arrived(start + "Content-Length: 1\r\nContent-Length: 1\r\n\r\n", kBody, kHead));
  // A head that never ends is handed over once longer than the limit, to be refused.
  EXPECT_FALSE(request_arrived(start + std::string(kHead - start.size(), 'a'), kBody, kHead));
  EXPECT_TRUE(request_arrived(start + std::string(kHead, 'a'), kBody, kHead));
}

using HttpServerDeadlineTest = HttpServerTest;

// A client that keeps sending a byte now and then no longer renews its time: the request must
// arrive whole within request_timeout, else 408 in the OpenAI shape and the connection closed.
TEST_F(HttpServerDeadlineTest, ARequestNotInByItsDeadlineGets408) {
  ServerOptions o;
  o.request_timeout = 500ms;
  o.read_timeout = 400ms;
  auto server = serve(basic_routes, o);
  RawHttpConnection c("127.0.0.1", server->port());
  const auto start = std::chrono::steady_clock::now();
  c.socket().send_all("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\nabc");
  auto reply = c.read_reply();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(reply.status, 408);
  EXPECT_EQ(error_of(reply).at("code"), "request_timeout");
  EXPECT_EQ(reply.header("connection"), "close");
  EXPECT_GE(took, 450ms);
  EXPECT_LT(took, 500ms + 1500ms);  // slack for a loaded machine under ASan
  EXPECT_TRUE(c.closed_by_server());
  // Serving goes on.
  RawHttpConnection next("127.0.0.1", server->port());
  EXPECT_EQ(next.request("GET", "/health").status, 200);
}

TEST_F(HttpServerDeadlineTest, PipelinedRequestsAreAnsweredInOrderWithoutWaiting) {
  ServerOptions o;
  o.keep_alive_timeout = std::chrono::seconds(5);
  auto server = serve(basic_routes, o);
  RawHttpConnection c("::1", server->port());
  const auto start = std::chrono::steady_clock::now();
  c.socket().send_all(
      "POST /echo HTTP/1.1\r\nHost: [::1]\r\nContent-Length: 3\r\n\r\none"
      "POST /echo HTTP/1.1\r\nHost: [::1]\r\nContent-Length: 3\r\n\r\ntwo"
      "GET /health HTTP/1.1\r\nHost: [::1]\r\n\r\n");
  EXPECT_EQ(c.read_reply().body, "one");
  EXPECT_EQ(c.read_reply().body, "two");
  EXPECT_EQ(c.read_reply().status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s) << "answered only at keep-alive's end";
  EXPECT_EQ(c.request("POST", "/echo", "four").body, "four");  // the connection is still good
}

}  // namespace
}  // namespace tandem::http
