// The discovery pipe end to end under Wine: real named pipes, real threads, real DACLs.
#include <windows.h>

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/discovery/protocol.h"
#include "common/discovery/publication_state.h"
#include "common/discovery/request_handler.h"
#include "common/win32/error.h"
#include "common/win32/handle.h"
#include "common/win32/pipe_client.h"
#include "common/win32/pipe_io.h"
#include "common/win32/pipe_server.h"
#include "common/win32/security.h"
#include "common/win32/strings.h"

namespace tandem::win32 {
namespace {

using namespace std::chrono_literals;
using discovery::Endpoint;
using discovery::PublicationState;
using discovery::State;

// Bounds for what should happen at once: generous, since Wine on 2 busy cores can be slow.
constexpr auto kPrompt = 15s;

std::string unique_name() {
  static std::atomic<int> counter{0};
  return "tandem-test-" + std::to_string(GetCurrentProcessId()) + "-" + std::to_string(counter++);
}

Endpoint identity() {
  Endpoint e;
  e.pid = GetCurrentProcessId();
  e.instance_id = "instance-under-test";
  e.model = "tandem-tiny";
  return e;
}

Endpoint ready_on(std::uint16_t port) {
  Endpoint e = identity();
  e.port = port;
  e.url = discovery::loopback_url(port);
  e.addresses = discovery::loopback_addresses();
  return e;
}

nlohmann::json call(const std::string& name, std::string_view request,
                    std::chrono::milliseconds timeout = kPrompt) {
  return nlohmann::json::parse(call_pipe(name, request, timeout).response);
}

class PipeTest : public ::testing::Test {
 protected:
  PipeServer& serve(int instances = PipeServer::kDefaultInstances,
                    std::chrono::milliseconds idle = PipeServer::kDefaultIdleTimeout) {
    server_ = std::make_unique<PipeServer>(
        name_, PipeServer::kDefaultSddl,
        [this](std::string_view m, std::stop_token stop) {
          return discovery::handle_request(state_, m, stop);
        },
        instances, idle);
    return *server_;
  }

  const std::string name_ = unique_name();
  PublicationState state_{identity()};
  std::unique_ptr<PipeServer> server_;
};

TEST_F(PipeTest, ResolveRoundTripNamesTheServerProcess) {
  serve();
  state_.publish_ready(ready_on(8031));
  PipeCall c = call_pipe(name_, R"({"v":1,"op":"resolve"})", kPrompt);
  EXPECT_EQ(c.server_pid, GetCurrentProcessId());
  auto r = discovery::decode_response(c.response);
  ASSERT_TRUE(r.ok()) << c.response;
  EXPECT_EQ(r.endpoint->state, State::ready);
  EXPECT_EQ(r.endpoint->port, 8031);
  EXPECT_EQ(r.endpoint->url, "http://127.0.0.1:8031");
  EXPECT_EQ(r.endpoint->pid, GetCurrentProcessId());
  EXPECT_EQ(r.endpoint->instance_id, "instance-under-test");
}

TEST_F(PipeTest, ResolveWhileStartingHasNoPort) {
  serve();
  auto j = call(name_, R"({"v":1,"op":"resolve"})");
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["state"], "starting");
  EXPECT_FALSE(j.contains("port"));
}

TEST_F(PipeTest, WaitIsReleasedByAPublishFromAnotherThread) {
  serve();
  auto client = std::async(std::launch::async, [&] {
    return call(name_, R"({"v":1,"op":"wait","timeout_ms":60000})", 90s);
  });
  ASSERT_TRUE(state_.wait_for_waiters(1, kPrompt)) << "the wait never reached the server";
  state_.publish_ready(ready_on(8033));
  ASSERT_EQ(client.wait_for(kPrompt), std::future_status::ready) << "publish did not answer";
  auto j = client.get();
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["port"], 8033);
}

TEST_F(PipeTest, WaitTimesOutWithTheTimeoutCode) {
  serve();
  auto j = call(name_, R"({"v":1,"op":"wait","timeout_ms":50})");
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["error"]["code"], "timeout");
}

TEST_F(PipeTest, BadMessagesAreAnsweredAndTheServerKeepsServing) {
  serve();
  state_.publish_ready(ready_on(8034));

  auto malformed = call(name_, R"({"v":1,"op":)");
  EXPECT_EQ(malformed["error"]["code"], "bad_request");

  const std::string binary("\x00\x01\xff\xfe\x80garbage\x00", 13);
  auto garbage = call(name_, binary);
  EXPECT_EQ(garbage["error"]["code"], "bad_request");

  const std::string huge(100 * 1024, '{');
  auto oversized = call(name_, huge);
  EXPECT_EQ(oversized["error"]["code"], "bad_request");
  EXPECT_EQ(oversized["error"]["message"], "request is 102400 bytes; the limit is 65536");

  auto wrong_op = call(name_, R"({"v":1,"op":"reboot"})");
  EXPECT_EQ(wrong_op["error"]["code"], "bad_request");

  auto fine = call(name_, R"({"v":1,"op":"resolve"})");
  EXPECT_EQ(fine["ok"], true);
  EXPECT_EQ(fine["port"], 8034);
}

TEST_F(PipeTest, EightClientsAtOnceOnFourInstances) {
  serve(4);
  // Eight waits: four hold every instance, four queue in WaitNamedPipeW until one frees up.
  std::vector<std::future<nlohmann::json>> clients;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(std::async(std::launch::async, [&] {
      return call(name_, R"({"v":1,"op":"wait","timeout_ms":60000})", 90s);
    }));
  }
  ASSERT_TRUE(state_.wait_for_waiters(4, kPrompt)) << "four instances should be busy waiting";
  EXPECT_EQ(state_.waiting(), 4u) << "only four instances exist";
  state_.publish_ready(ready_on(8035));
  for (auto& c : clients) {
    ASSERT_EQ(c.wait_for(kPrompt), std::future_status::ready);
    auto j = c.get();
    EXPECT_EQ(j["ok"], true) << j.dump();
    EXPECT_EQ(j["port"], 8035);
  }
}

TEST_F(PipeTest, ClientsThatNeverReadOrNeverWriteBlockNeitherOthersNorStop) {
  serve(4, 60s);  // idle timeout far beyond the test: only stop() may free these instances
  state_.publish_ready(ready_on(8036));
  const std::wstring path = widen("\\\\.\\pipe\\" + name_);
  auto open_raw = [&] {
    FileHandle h(CreateFileW(path.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                             0, nullptr));
    if (!h) throw_last_error("CreateFileW(test client)");
    return h;
  };
  FileHandle silent = open_raw();  // connects, never writes
  FileHandle deaf = open_raw();    // writes a request, never reads the answer
  DWORD mode = PIPE_READMODE_MESSAGE;
  ASSERT_TRUE(SetNamedPipeHandleState(deaf.get(), &mode, nullptr, nullptr));
  const std::string request = R"({"v":1,"op":"resolve"})";
  DWORD written = 0;
  ASSERT_TRUE(
      WriteFile(deaf.get(), request.data(), static_cast<DWORD>(request.size()), &written, nullptr));

  for (int i = 0; i < 6; ++i) EXPECT_EQ(call(name_, request)["port"], 8036) << i;

  auto stopping = std::async(std::launch::async, [&] { server_->stop(); });
  EXPECT_EQ(stopping.wait_for(kPrompt), std::future_status::ready)
      << "stop() hung on clients that neither read nor write";
}

TEST_F(PipeTest, StopReturnsWhileAWaitIsBlockedInTheHandler) {
  serve();
  auto client = std::async(std::launch::async, [&] {
    return call_pipe(name_, R"({"v":1,"op":"wait","timeout_ms":600000})", 900s);
  });
  ASSERT_TRUE(state_.wait_for_waiters(1, kPrompt));
  auto stopping = std::async(std::launch::async, [&] { server_->stop(); });
  ASSERT_EQ(stopping.wait_for(kPrompt), std::future_status::ready) << "stop() hung on a wait";
  ASSERT_EQ(client.wait_for(kPrompt), std::future_status::ready);
  EXPECT_THROW(client.get(), Win32Error);  // hung up on, without an answer
  EXPECT_EQ(state_.waiting(), 0u);
}

TEST_F(PipeTest, ASecondServerOnTheSameNameRefusesLoudly) {
  serve();
  try {
    PipeServer second(name_, PipeServer::kDefaultSddl,
                      [](std::string_view, std::stop_token) { return std::string("{}"); });
    FAIL() << "a second server started behind the first";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("another process already owns \\\\.\\pipe\\" + name_),
              std::string::npos)
        << e.what();
  }
  state_.publish_ready(ready_on(8037));
  EXPECT_EQ(call(name_, R"({"v":1,"op":"resolve"})")["port"], 8037) << "the first still serves";
}

// A squatter that leaves room for more instances: Wine then lets FILE_FLAG_FIRST_PIPE_INSTANCE
// through, so only the server's own look before creating catches it.
TEST_F(PipeTest, ARawSquatterMakesTheServerRefuse) {
  for (DWORD max_instances : {DWORD{1}, DWORD{PIPE_UNLIMITED_INSTANCES}}) {
    FileHandle squatter(CreateNamedPipeW(widen("\\\\.\\pipe\\" + name_).c_str(), PIPE_ACCESS_DUPLEX,
                                         PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT,
                                         max_instances, 4096, 4096, 0, nullptr));
    ASSERT_TRUE(squatter);
    try {
      serve();
      FAIL() << "served behind a squatter allowing " << max_instances << " instances";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()),
                "another process already owns \\\\.\\pipe\\" + name_ +
                    "; refusing to serve behind it (stop that process or check who created the "
                    "pipe)");
    }
  }
}

TEST_F(PipeTest, TheServerIsFreeToStartAgainAfterStop) {
  serve().stop();
  serve();
  EXPECT_EQ(call(name_, R"({"v":1,"op":"resolve"})")["ok"], true);
}

TEST_F(PipeTest, ThePipeCarriesTheExplicitDacl) {
  serve();
  FileHandle client(CreateFileW(widen("\\\\.\\pipe\\" + name_).c_str(),
                                GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING, 0,
                                nullptr));
  ASSERT_TRUE(client);
  std::string sddl = dacl_sddl(client.get(), SE_KERNEL_OBJECT, "pipe " + name_);
  EXPECT_EQ(sddl.rfind("D:P", 0), 0u) << sddl;
  EXPECT_NE(sddl.find(";;;SY)"), std::string::npos) << sddl;
  EXPECT_NE(sddl.find(";;;BA)"), std::string::npos) << sddl;
  EXPECT_NE(sddl.find(";;;AU)"), std::string::npos) << sddl;
}

TEST_F(PipeTest, AFailingHandlerIsAnInternalErrorAndServingGoesOn) {
  std::atomic<int> calls{0};
  server_ = std::make_unique<PipeServer>(name_, PipeServer::kDefaultSddl,
                                         [&](std::string_view, std::stop_token) -> std::string {
                                           if (calls++ == 0) throw Error("handler exploded");
                                           return discovery::encode_error("test", "second call");
                                         });
  auto first = call(name_, "{}");
  EXPECT_EQ(first["error"]["code"], "internal");
  EXPECT_EQ(first["error"]["message"], "handler exploded");
  EXPECT_EQ(call(name_, "{}")["error"]["message"], "second call");
}

TEST(PipeClient, NoServerIsFileNotFoundNamingThePipe) {
  const std::string name = unique_name();
  try {
    call_pipe(name, R"({"v":1,"op":"resolve"})", 1s);
    FAIL();
  } catch (const Win32Error& e) {
    EXPECT_EQ(e.code(), static_cast<DWORD>(ERROR_FILE_NOT_FOUND)) << e.what();
    EXPECT_EQ(std::string(e.what()).rfind("CreateFileW(\\\\.\\pipe\\" + name + ") failed: ", 0), 0u)
        << e.what();
  }
}

TEST_F(PipeTest, ClientGivesUpAtItsBoundWithATimeoutError) {
  serve();
  try {
    call_pipe(name_, R"({"v":1,"op":"wait","timeout_ms":60000})", 200ms);
    FAIL();
  } catch (const Win32Error& e) {
    EXPECT_EQ(e.code(), static_cast<DWORD>(ERROR_TIMEOUT)) << e.what();
    EXPECT_NE(std::string(e.what()).find("ReadFile(\\\\.\\pipe\\" + name_ + ") within 200 ms"),
              std::string::npos)
        << e.what();
  }
}

// Issue 17: a pipe handle opened with too few rights is refused, before the call, each right its
// documentation names (Wine would let every one of these calls through).
TEST_F(PipeTest, EachCallNeedsTheRightItsDocumentationNames) {
  serve();
  const std::string path = pipe_path(name_);
  auto open = [&](DWORD access) {
    FileHandle handle(CreateFileW(widen(path).c_str(), access, 0, nullptr, OPEN_EXISTING,
                                  FILE_FLAG_OVERLAPPED, nullptr));
    if (!handle) throw_last_error("CreateFileW(" + path + ")");
    return Pipe(std::move(handle), access, path);
  };
  auto expect_refused = [](auto call, const std::string& message) {
    try {
      call();
      ADD_FAILURE() << "not refused: " << message;
    } catch (const AccessRightMissing& e) {
      EXPECT_EQ(std::string(e.what()).rfind(message, 0), 0u) << e.what();
    }
  };
  Overlapped overlapped;
  {
    const Pipe read_only = open(GENERIC_READ);
    expect_refused([&] { set_message_mode(read_only); },
                   "SetNamedPipeHandleState(" + path +
                       ", message mode) needs FILE_WRITE_ATTRIBUTES, which its handle was not "
                       "opened with");
    expect_refused([&] { write_message(read_only, overlapped, nullptr, 1000, "{}"); },
                   "WriteFile(" + path + ") needs FILE_WRITE_DATA");
  }
  {
    const Pipe write_only = open(GENERIC_WRITE);
    expect_refused([&] { read_message(write_only, overlapped, nullptr, 1000, 1024); },
                   "ReadFile(" + path + ") needs FILE_READ_DATA");
  }
  // With both, the same calls go through.
  const Pipe both = open(GENERIC_READ | GENERIC_WRITE);
  set_message_mode(both);
  ASSERT_EQ(write_message(both, overlapped, nullptr, 15000, R"({"v":1,"op":"resolve"})").end,
            IoEnd::done);
  const MessageRead answer = read_message(both, overlapped, nullptr, 15000, 1 << 20);
  ASSERT_EQ(answer.end, IoEnd::done);
  EXPECT_NE(answer.message.find("\"ok\""), std::string::npos) << answer.message;
}

TEST(PipeServerSetup, BadSddlIsAnErrorNamingIt) {
  try {
    PipeServer s(unique_name(), "D:(nonsense",
                 [](std::string_view, std::stop_token) { return std::string(); });
    FAIL();
  } catch (const Win32Error& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "ConvertStringSecurityDescriptorToSecurityDescriptorW(D:(nonsense)"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace tandem::win32
