// Issue #7, hostile input on the discovery pipe: a corpus of malformed, oversized, partial and
// binary messages, 64 clients at once, and clients that never read or never write, against a real
// PipeServer answering with discovery::handle_request, as TandemLlm does. Every message sent is
// counted, and each must get its specific answer (docs/architecture.md#named-pipe-protocol).
#include <windows.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <future>
#include <latch>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/discovery/endpoint.h"
#include "common/discovery/protocol.h"
#include "common/discovery/publication_state.h"
#include "common/discovery/request_handler.h"
#include "common/win32/pipe_client.h"
#include "common/win32/pipe_io.h"
#include "common/win32/pipe_server.h"
#include "tests/support/raw_pipe_client.h"

namespace tandem::win32 {
namespace {

using namespace std::chrono_literals;
using discovery::Endpoint;
using discovery::PublicationState;
using nlohmann::json;
using testing::RawPipeClient;

// Bounds for what should happen at once: generous, since Wine on 2 busy cores can be slow.
constexpr auto kPrompt = 15s;
constexpr std::uint16_t kPort = 8041;
constexpr std::size_t kLimit = discovery::kMaxMessageBytes;

std::string unique_name() {
  static std::atomic<int> counter{0};
  return "tandem-hostile-" + std::to_string(GetCurrentProcessId()) + "-" +
         std::to_string(counter++);
}

Endpoint ready_endpoint() {
  Endpoint e;
  e.pid = GetCurrentProcessId();
  e.instance_id = "hostile-instance";
  e.model = "tandem-tiny";
  e.port = kPort;
  e.url = discovery::loopback_url(kPort);
  e.addresses = discovery::loopback_addresses();
  return e;
}

// What one message must be answered with: an error code and a piece of its message, or (code
// "ok") the ready endpoint.
struct Case {
  std::string label;
  std::string message;
  std::string code;
  std::string says;  // the error message contains this
};

// Checks one answer against its case; returns what is wrong, empty when it is right.
std::string verdict(const Case& c, const std::optional<std::string>& answer) {
  if (!answer) return "no answer";
  json j;
  try {
    j = json::parse(*answer);  // throws on invalid UTF-8 too: answers must be clean UTF-8
  } catch (const json::exception& e) {
    return std::string("answer is not JSON: ") + e.what();
  }
  if (j.value("v", 0) != 1) return "answer without v:1: " + *answer;
  if (answer->size() > 1024) return "answer of " + std::to_string(answer->size()) + " bytes";
  if (c.code == "ok") {
    if (j.value("ok", false) && j.value("port", 0) == kPort && j.value("state", "") == "ready") {
      return {};
    }
    return "expected the endpoint, got " + *answer;
  }
  if (j.value("ok", true) != false) return "expected ok:false, got " + *answer;
  if (!j.contains("error") || !j["error"].is_object()) return "no error object: " + *answer;
  const std::string code = j["error"].value("code", "");
  const std::string message = j["error"].value("message", "");
  if (code != c.code) return "expected code " + c.code + ", got " + *answer;
  if (message.find(c.says) == std::string::npos) return "expected '" + c.says + "' in " + *answer;
  return {};
}

std::string with_nul_at(std::string s, std::size_t at) {
  s.insert(at, 1, '\0');
  return s;
}

// The corpus: every kind of malformed message the issue names, each with its specific answer.
std::vector<Case> hostile_corpus(const PublicationState& state) {
  std::vector<Case> cases;
  auto add = [&](std::string label, std::string message, std::string code, std::string says) {
    cases.push_back({std::move(label), std::move(message), std::move(code), std::move(says)});
  };
  const std::string valid = R"({"v":1,"op":"wait","timeout_ms":1000})";
  const std::string resolve = R"({"v":1,"op":"resolve"})";

  // Malformed JSON: every cut of a valid request, and trailing garbage after one.
  for (std::size_t n = 1; n < valid.size(); ++n) {
    add("prefix " + std::to_string(n), valid.substr(0, n), "bad_request", "invalid JSON: ");
  }
  for (std::string tail : {"x", "}", "{}", ",", " 1", "\x01", "\xff"}) {
    add("trailing " + tail, resolve + tail, "bad_request", "invalid JSON: ");
  }
  add("two objects", resolve + resolve, "bad_request", "invalid JSON: ");
  for (std::string text : {"{", "}", "{{}}", "{'v':1}", "{v:1}", R"({"v":1,})", R"({"v" 1})",
                           R"({"v":01})", R"({"v":1e})", R"({"v":-})", "nul", "tru",
                           R"({"v":1,"op":"resolve")", "\"unterminated", "[1,2", "//{}"}) {
    add("malformed " + text, text, "bad_request", "invalid JSON: ");
  }

  // Wrong types, each answered naming its field.
  auto field = [&](const std::string& body, const std::string& says) {
    add("type " + body, body, "bad_request", says);
  };
  for (std::string v : {R"("1")", "true", "null", "[1]", R"({"n":1})", "1.0", "1.5"}) {
    field(R"({"v":)" + v + R"(,"op":"resolve"})",
          "field 'v': expected an integer from 0 to 2147483647, got ");
  }
  for (std::string v : {"-1", "2147483648", "18446744073709551615", "1e400x"}) {
    const bool broken = v == "1e400x";
    add("range v " + v, R"({"v":)" + v + R"(,"op":"resolve"})", "bad_request",
        broken ? "invalid JSON: " : "field 'v': expected an integer from 0 to 2147483647, got ");
  }
  for (std::string op : {"1", "true", "null", R"(["resolve"])", R"({"op":"resolve"})"}) {
    field(R"({"v":1,"op":)" + op + "}", "field 'op': expected a string, got ");
  }
  for (std::string t : {R"("1000")", "1.5", "1e30", "-1", "-9223372036854775808",
                        "18446744073709551615", "86400001", "true", "null", "[]", "{}"}) {
    field(R"({"v":1,"op":"wait","timeout_ms":)" + t + "}",
          "field 'timeout_ms': expected an integer from 0 to 86400000, got ");
  }
  field(R"({"v":1,"op":"wait"})", "field 'timeout_ms': required for op 'wait'");
  field(R"({"op":"resolve"})", "field 'v': required (the protocol version, 1)");
  field(R"({"v":1})", "field 'op': required (resolve, wait or status)");
  field("{}", "field 'v': required");
  for (std::string root : {"[]", "1", R"("resolve")", "null", "true", "[{\"v\":1}]"}) {
    add("root " + root, root, "bad_request", "expected a JSON object, got ");
  }

  // Unknown ops and fields, and other versions.
  for (const std::string& op : std::vector<std::string>{
           "reboot", "", "RESOLVE", "resolve ", " resolve", "resolve\\u0000", "wait2", "stop",
           "shutdown", "exec", "\\u00e9", std::string(5000, 'a')}) {
    add("op " + op.substr(0, 20), R"({"v":1,"op":")" + op + R"("})", "bad_request",
        "field 'op': expected one of resolve, wait, status; got ");
  }
  for (const std::string& key :
       std::vector<std::string>{"x", "V", "OP", "timeout", "__proto__", std::string(3000, 'k')}) {
    add("field " + key.substr(0, 20), R"({"v":1,"op":"resolve",")" + key + R"(":1})", "bad_request",
        "unknown field");
  }
  for (std::string v : {"0", "2", "99", "2147483647"}) {
    add("version " + v, R"({"v":)" + v + R"(,"op":"resolve"})", "unsupported_version",
        "field 'v': version " + v + " is not supported; this server speaks version 1");
  }

  // Nesting beyond the protocol's depth, shallow and enormous.
  add("nested", R"({"v":1,"op":"resolve","x":[[[[[1]]]]]})", "bad_request",
      "nested deeper than the protocol allows");
  add("nested 30000", std::string(30000, '[') + std::string(30000, ']'), "bad_request",
      "nested deeper than the protocol allows");
  add("nested objects", std::string(20000, '{'), "bad_request", "invalid JSON: ");

  // Binary: NUL bytes anywhere, invalid UTF-8 in strings and keys, escaped lone surrogates.
  for (std::size_t at = 0; at <= resolve.size(); ++at) {
    add("NUL at " + std::to_string(at), with_nul_at(resolve, at), "bad_request",
        "invalid JSON: a NUL byte at offset " + std::to_string(at));
  }
  add("only NULs", std::string(64, '\0'), "bad_request", "invalid JSON: a NUL byte at offset 0");
  for (std::string bytes : {"\xff", "\xfe\xff", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82",
                            "\xf4\x90\x80\x80", "\x80", "\xf8\x88\x80\x80\x80", "a\xc3"}) {
    add("utf8 value", R"({"v":1,"op":")" + bytes + R"("})", "bad_request", "invalid JSON: ");
    add("utf8 key", R"({"v":1,"op":"resolve",")" + bytes + R"(":1})", "bad_request",
        "invalid JSON: ");
  }
  for (std::string esc : {"\\ud800", "\\udc00", "\\ud800\\u0041", "\\uZZZZ", "\\x41", "\\"}) {
    add("escape " + esc, R"({"v":1,"op":")" + esc + R"("})", "bad_request", "invalid JSON: ");
  }
  add("BOM", "\xef\xbb\xbf" + resolve, "ok", "");  // nlohmann skips a UTF-8 BOM

  // Random binary garbage and single-byte mutations of a valid request. Their answers come from
  // the handler called in-process (the oracle); the pipe must deliver exactly that.
  std::mt19937 random(20261127);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < 1000; ++i) {
    std::string garbage(static_cast<std::size_t>(1 + random() % 400), '\0');
    for (char& c : garbage) c = static_cast<char>(byte(random));
    add("garbage " + std::to_string(i), garbage, "oracle", "");
  }
  for (int i = 0; i < 900; ++i) {
    std::string mutated = i % 2 ? resolve : valid;
    mutated[random() % mutated.size()] = static_cast<char>(byte(random));
    if (i % 3 == 0) mutated[random() % mutated.size()] = static_cast<char>(byte(random));
    add("mutation " + std::to_string(i), mutated, "oracle", "");
  }
  for (Case& c : cases) {
    if (c.code != "oracle") continue;
    json expected = json::parse(discovery::handle_request(state, c.message));
    if (expected.value("ok", false)) {
      c.code = "ok";
    } else {
      c.code = expected["error"]["code"];
      c.says = expected["error"]["message"];
    }
  }

  // Sizes around the 64 KiB limit: the limit itself is allowed, one byte more is not.
  std::string padded = resolve;
  padded.insert(1, kLimit - resolve.size(), ' ');
  add("exactly the limit", padded, "ok", "");
  for (std::size_t size : {kLimit + 1, kLimit + 4096, std::size_t{100000}, std::size_t{1} << 20}) {
    std::string big(size, '\0');
    for (char& c : big) c = static_cast<char>(byte(random));
    add("oversized " + std::to_string(size), big, "bad_request",
        "request is " + std::to_string(size) + " bytes; the limit is 65536");
  }
  std::string big_valid = resolve;
  big_valid.insert(1, kLimit, ' ');
  add("oversized valid", big_valid, "bad_request",
      "request is " + std::to_string(big_valid.size()) + " bytes; the limit is 65536");
  return cases;
}

class HostilePipeTest : public ::testing::Test {
 protected:
  void SetUp() override { state_.publish_ready(ready_endpoint()); }

  void serve(int instances = PipeServer::kDefaultInstances,
             std::chrono::milliseconds idle = PipeServer::kDefaultIdleTimeout) {
    server_ = std::make_unique<PipeServer>(
        name_, PipeServer::kDefaultSddl,
        [this](std::string_view m, std::stop_token stop) {
          return discovery::handle_request(state_, m, stop);
        },
        instances, idle);
  }

  // After whatever came before: every instance still listens (all held at once), and resolve and
  // status answer with the endpoint.
  void expect_still_serving(int instances = PipeServer::kDefaultInstances) {
    std::vector<std::unique_ptr<RawPipeClient>> held;
    for (int i = 0; i < instances; ++i) {
      held.push_back(std::make_unique<RawPipeClient>(name_, kPrompt));
    }
    for (auto& client : held) {
      EXPECT_EQ(verdict({"resolve", "", "ok", ""},
                        client->exchange(R"({"v":1,"op":"resolve"})", kPrompt)),
                "");
    }
    held.clear();
    PipeCall call = call_pipe(name_, R"({"v":1,"op":"status"})", kPrompt);
    EXPECT_EQ(call.server_pid, GetCurrentProcessId());
    EXPECT_EQ(verdict({"status", "", "ok", ""}, call.response), "");
  }

  const std::string name_ = unique_name();
  PublicationState state_{ready_endpoint()};
  std::unique_ptr<PipeServer> server_;
};

TEST_F(HostilePipeTest, EveryMalformedMessageGetsItsSpecificAnswer) {
  serve();
  const std::vector<Case> corpus = hostile_corpus(state_);
  std::size_t wrong = 0;
  std::size_t unanswered = 0;
  std::size_t reconnects = 0;
  auto client = std::make_unique<RawPipeClient>(name_, kPrompt);
  for (const Case& c : corpus) {
    auto answer = client->exchange(c.message, kPrompt);
    if (!answer) {
      ++unanswered;
      ADD_FAILURE() << c.label << ": no answer (" << error_text(client->last().error) << ")";
      client = std::make_unique<RawPipeClient>(name_, kPrompt);
      ++reconnects;
      continue;
    }
    const std::string why = verdict(c, answer);
    if (!why.empty()) {
      ++wrong;
      ADD_FAILURE() << c.label << ": " << why;
    }
  }
  std::printf("pipe corpus: %zu messages on one connection, %zu unanswered, %zu wrong\n",
              corpus.size(), unanswered, wrong);
  client.reset();
  EXPECT_GE(corpus.size(), 2000u);
  EXPECT_EQ(reconnects, 0u);
  expect_still_serving();
}

TEST_F(HostilePipeTest, AnEmptyMessageIsABadRequest) {
  serve();
  {
    RawPipeClient client(name_, kPrompt);
    EXPECT_EQ(verdict({"empty", "", "bad_request", "invalid JSON: "}, client.exchange("", kPrompt)),
              "");
  }
  expect_still_serving();
}

// Regression: the JSON parser took a NUL byte for the end of the message, so a valid request
// followed by NUL and anything else was answered as if the rest were not there.
TEST_F(HostilePipeTest, AValidRequestFollowedByNulAndGarbageIsABadRequest) {
  serve();
  const std::string resolve = R"({"v":1,"op":"resolve"})";
  for (const std::string& tail :
       {std::string(1, '\0'), std::string("\0{\"v\":2}", 8), std::string("\0\xff\xfe", 3)}) {
    EXPECT_EQ(verdict({"trailing NUL", "", "bad_request", "invalid JSON: a NUL byte at offset 22"},
                      call_pipe(name_, resolve + tail, kPrompt).response),
              "");
  }
}

// Every corpus message again, each on its own connection that closes without reading the
// answer: the server must drop each client and listen again, never lose an instance.
TEST_F(HostilePipeTest, ClientsThatSendAndHangUpLeaveEveryInstanceServing) {
  serve();
  const std::vector<Case> corpus = hostile_corpus(state_);
  std::size_t sent = 0;
  for (std::size_t i = 0; i < corpus.size(); i += 7) {
    RawPipeClient client(name_, kPrompt);
    ASSERT_EQ(client.send(corpus[i].message, kPrompt).end, IoEnd::done) << corpus[i].label;
    ++sent;
  }
  std::printf("send-and-hang-up: %zu connections\n", sent);
  expect_still_serving();
}

// A message cut short: the client starts writing 1 MiB and hangs up mid-write.
TEST_F(HostilePipeTest, AWriteCutShortByHangingUpLeavesEveryInstanceServing) {
  serve();
  const std::string big(std::size_t{1} << 20, '{');
  for (int i = 0; i < 8; ++i) {
    FileHandle pipe(CreateFileW(widen(pipe_path(name_)).c_str(), GENERIC_READ | GENERIC_WRITE, 0,
                                nullptr, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, nullptr));
    if (!pipe && GetLastError() == ERROR_PIPE_BUSY) {
      ASSERT_TRUE(WaitNamedPipeW(widen(pipe_path(name_)).c_str(), 15000));
      --i;
      continue;
    }
    ASSERT_TRUE(pipe) << error_text(GetLastError());
    Overlapped overlapped;
    BOOL ok = WriteFile(pipe.get(), big.data(), static_cast<DWORD>(big.size()), nullptr,
                        overlapped.get());
    const DWORD start = ok ? ERROR_SUCCESS : GetLastError();
    // Cancel at once: the write stops wherever it got to (maybe nowhere, maybe done).
    if (start == ERROR_IO_PENDING) CancelIoEx(pipe.get(), overlapped.get());
    IoResult r = overlapped.finish(pipe.get(), start, nullptr, 15000);
    EXPECT_NE(r.end, IoEnd::timed_out) << "a cancelled write never ended";
    pipe.reset();
  }
  expect_still_serving();
}

TEST_F(HostilePipeTest, SixtyFourClientsAtOnceAreAllAnsweredCorrectly) {
  serve();
  constexpr int kClients = 64;
  const std::vector<Case> script = {
      {"resolve", R"({"v":1,"op":"resolve"})", "ok", ""},
      {"malformed", R"({"v":1,"op":)", "bad_request", "invalid JSON: "},
      {"status", R"({"v":1,"op":"status"})", "ok", ""},
      {"wrong type", R"({"v":"1","op":"resolve"})", "bad_request", "field 'v': expected"},
      {"unknown op", R"({"v":1,"op":"reboot"})", "bad_request", "field 'op': expected one of"},
      {"binary", std::string("\x00\xff\xfe\x01", 4), "bad_request", "invalid JSON: "},
      {"wait ready", R"({"v":1,"op":"wait","timeout_ms":5000})", "ok", ""},
  };
  std::latch start(kClients);
  std::atomic<int> right{0};
  std::vector<std::future<std::string>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::async(std::launch::async, [&, i]() -> std::string {
      start.arrive_and_wait();
      try {
        std::string problems;
        if (i % 2 == 0) {  // the product client: one request per connection, as resolvers do
          for (const Case& c : script) {
            const std::string why = verdict(c, call_pipe(name_, c.message, 60s).response);
            if (why.empty())
              ++right;
            else
              problems += c.label + ": " + why + "; ";
          }
        } else {  // a raw client keeping its connection for the whole script
          RawPipeClient client(name_, 60s);
          for (const Case& c : script) {
            const std::string why = verdict(c, client.exchange(c.message, 60s));
            if (why.empty())
              ++right;
            else
              problems += c.label + ": " + why + "; ";
          }
        }
        return problems;
      } catch (const std::exception& e) {
        return std::string("client failed: ") + e.what();
      }
    }));
  }
  for (int i = 0; i < kClients; ++i) {
    ASSERT_EQ(clients[static_cast<std::size_t>(i)].wait_for(120s), std::future_status::ready)
        << "client " << i << " hung";
    EXPECT_EQ(clients[static_cast<std::size_t>(i)].get(), "") << "client " << i;
  }
  std::printf("64 clients at once: %d of %zu answers right\n", right.load(),
              kClients * script.size());
  EXPECT_EQ(right.load(), static_cast<int>(kClients * script.size()));
  expect_still_serving();
}

// As many silent clients as there are instances: the idle timeout frees them, so a real client
// is answered within about that timeout, and each silent one sees itself dropped.
TEST_F(HostilePipeTest, SilentClientsOnEveryInstanceAreDroppedAfterTheIdleTimeout) {
  constexpr auto kIdle = 500ms;
  serve(PipeServer::kDefaultInstances, kIdle);
  std::vector<std::unique_ptr<RawPipeClient>> silent;
  for (int i = 0; i < PipeServer::kDefaultInstances; ++i) {
    silent.push_back(std::make_unique<RawPipeClient>(name_, kPrompt));
  }
  const auto begin = std::chrono::steady_clock::now();
  PipeCall call = call_pipe(name_, R"({"v":1,"op":"resolve"})", kPrompt);
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - begin);
  EXPECT_EQ(verdict({"resolve", "", "ok", ""}, call.response), "");
  std::printf("resolve behind %d silent clients: %lld ms (idle timeout %lld ms)\n",
              PipeServer::kDefaultInstances, static_cast<long long>(waited.count()),
              static_cast<long long>(kIdle.count()));
  for (auto& client : silent) {
    // The server hung up on it: a read ends at once with an error instead of waiting.
    EXPECT_FALSE(client->receive(kPrompt)) << "a silent client was never dropped";
    EXPECT_EQ(client->last().end, IoEnd::failed);
  }
  silent.clear();
  expect_still_serving();
}

// One client that never writes, one that writes and never reads, one that floods requests without
// reading (the server's writes back up): the other clients are served at once, and stop() is not
// held up by any of them.
TEST_F(HostilePipeTest, ClientsThatNeverReadOrNeverWriteDoNotBlockOthers) {
  serve(PipeServer::kDefaultInstances, 120s);  // the idle timeout must not rescue anyone here
  RawPipeClient silent(name_, kPrompt);
  RawPipeClient deaf(name_, kPrompt);
  ASSERT_EQ(deaf.send(R"({"v":1,"op":"resolve"})", kPrompt).end, IoEnd::done);

  std::string padded = R"({"v":1,"op":"resolve"})";
  padded.insert(1, 60000, ' ');
  std::atomic<int> flooded{0};
  std::latch flooding(1);
  auto flooder = std::async(std::launch::async, [&] {
    RawPipeClient client(name_, kPrompt);
    flooding.count_down();
    // Ends when the server hangs up; 600 s is only a bound for a broken server.
    for (int i = 0; i < 2000; ++i) {
      IoResult r = client.send(padded, 600s);
      if (r.end != IoEnd::done) return r;
      ++flooded;
    }
    return IoResult{};
  });
  flooding.wait();

  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(verdict({"resolve", "", "ok", ""},
                      call_pipe(name_, R"({"v":1,"op":"resolve"})", kPrompt).response),
              "")
        << i;
  }
  std::printf("flooder: %d unread requests written, then its writes backed up\n", flooded.load());

  auto stopping = std::async(std::launch::async, [&] { server_->stop(); });
  ASSERT_EQ(stopping.wait_for(kPrompt), std::future_status::ready)
      << "stop() hung on clients that neither read nor write";
  ASSERT_EQ(flooder.wait_for(kPrompt), std::future_status::ready)
      << "the flooder's write never ended after the server stopped";
  EXPECT_EQ(flooder.get().end, IoEnd::failed) << "the flooder never saw the server hang up";
  EXPECT_LT(flooded.load(), 2000) << "2000 unread answers never backed the server up";
}

}  // namespace
}  // namespace tandem::win32
