// The Linux publication (runtime file + llm.sock) and resolver: what a ready server publishes,
// how a withdrawn or killed one is never used (a dead PID, a foreign process on the socket, a
// socket nobody serves), who may talk to the socket, and that waits block and end on a stop.
#include <gtest/gtest.h>

#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <future>
#include <thread>

#include "common/discovery/protocol.h"
#include "common/error.h"
#include "common/files.h"
#include "common/posix/dir_watch.h"
#include "common/posix/endpoint_publisher.h"
#include "common/posix/llm_resolver.h"
#include "common/posix/runtime_dir.h"
#include "common/posix/runtime_file.h"
#include "common/posix/socket_server.h"
#include "common/posix/unix_socket.h"
#include "tests/posix/child_process.h"
#include "tests/support/temp_dir.h"

namespace tandem {
namespace {

using namespace std::chrono_literals;
using discovery::Endpoint;
using discovery::State;

Endpoint identity(std::uint32_t pid) {
  Endpoint e;
  e.pid = pid;
  e.instance_id = "11111111-2222-4333-8444-555555555555";
  e.model = "tiny";
  e.started_at = "2026-11-27T07:18:51Z";
  return e;
}

Endpoint ready_at(Endpoint e, std::uint16_t port) {
  e.state = State::ready;
  e.port = port;
  e.url = discovery::loopback_url(port);
  e.addresses = discovery::loopback_addresses();
  return e;
}

discovery::Response ask(const std::filesystem::path& socket, const std::string& request) {
  return discovery::decode_response(posix::call_socket(socket, request, 5s).response);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(RuntimeFile, RoundTripsAReadyEndpoint) {
  auto e = ready_at(identity(4242), 8031);
  e.pipe_name = "/run/tandem/llm.sock";
  e.cpu_variant = "zen4";
  e.cpu_features = "AVX2 AVX512";
  e.devices = {{"CPU", "AMD EPYC", "cpu", 5, 9}};
  const auto back = posix::decode_runtime_file("f.json", posix::encode_runtime_file(e));
  EXPECT_EQ(back.cpu_variant, "zen4");
  EXPECT_EQ(back.cpu_features, "AVX2 AVX512");
  EXPECT_EQ(back.devices, e.devices);
  EXPECT_EQ(back.state, State::ready);
  EXPECT_EQ(back.pid, 4242u);
  EXPECT_EQ(back.port, 8031);
  EXPECT_EQ(back.url, "http://127.0.0.1:8031");
  EXPECT_EQ(back.instance_id, e.instance_id);
  EXPECT_EQ(back.pipe_name, "/run/tandem/llm.sock");
  EXPECT_EQ(back.addresses, discovery::loopback_addresses());
}

TEST(RuntimeFile, StartingHasNoPortAndErrorsNameFileLineAndField) {
  const auto text = posix::encode_runtime_file(identity(7));
  EXPECT_FALSE(contains(text, "\"port\""));
  EXPECT_FALSE(contains(text, "\"url\""));
  try {
    posix::decode_runtime_file("llm-server.json",
                               "{\n\"v\": 1,\n\"state\": \"ready\",\n\"pid\": 5,\n"
                               "\"instance\": \"x\"\n}");
    FAIL() << "ready without a port was accepted";
  } catch (const InputError& e) {
    EXPECT_TRUE(contains(e.what(), "llm-server.json:")) << e.what();
    EXPECT_TRUE(contains(e.what(), "port")) << e.what();
  }
  EXPECT_THROW(posix::decode_runtime_file("f", R"({"v":1,"state":"up","pid":5,"instance":"x"})"),
               InputError);
  EXPECT_THROW(posix::decode_runtime_file("f", R"({"v":1,"state":"ready")"), InputError);
}

TEST(EndpointPublisher, PublishesFileAndSocketInOrderAndWithdrawsBoth) {
  testing::TempDir dir;
  const auto runtime = dir / "run";
  const auto file = runtime / posix::kLlmPublicationFile;
  const auto socket = runtime / posix::kLlmSocket;
  {
    posix::EndpointPublisher publisher(runtime, identity(static_cast<std::uint32_t>(::getpid())));
    struct stat info {};
    ASSERT_EQ(::stat(socket.c_str(), &info), 0);
    EXPECT_TRUE(S_ISSOCK(info.st_mode));
    EXPECT_EQ(info.st_mode & 0777, 0660u);

    publisher.starting(identity(static_cast<std::uint32_t>(::getpid())));
    auto published = posix::read_runtime_file(file);
    ASSERT_TRUE(published);
    EXPECT_EQ(published->state, State::starting);
    EXPECT_EQ(published->pipe_name, socket.string());
    EXPECT_EQ(ask(socket, R"({"v":1,"op":"resolve"})").endpoint->state, State::starting);

    // A client waiting before the server is ready is answered the moment it is.
    auto waiter = std::async(std::launch::async, [&] {
      return ask(socket, R"({"v":1,"op":"wait","timeout_ms":30000})");
    });
    EXPECT_EQ(waiter.wait_for(200ms), std::future_status::timeout);
    publisher.ready(ready_at(identity(static_cast<std::uint32_t>(::getpid())), 8031));
    const auto woken = waiter.get();
    ASSERT_TRUE(woken.ok());
    EXPECT_EQ(woken.endpoint->port, 8031);
    published = posix::read_runtime_file(file);
    ASSERT_TRUE(published);
    EXPECT_EQ(published->state, State::ready);
    EXPECT_EQ(published->port, 8031);

    publisher.withdraw();
    EXPECT_FALSE(std::filesystem::exists(file));
    const auto after = ask(socket, R"({"v":1,"op":"status"})");
    EXPECT_EQ(after.endpoint->state, State::stopped);
    EXPECT_EQ(after.endpoint->port, 0);
    const auto refused = ask(socket, R"({"v":1,"op":"wait","timeout_ms":30000})");
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error->code, discovery::kNotReady);
    EXPECT_EQ(ask(socket, "{oops").error->code, discovery::kBadRequest);
  }
  EXPECT_FALSE(std::filesystem::exists(socket)) << "the socket outlived its publisher";
}

TEST(EndpointPublisher, RefusesToServeBehindAForeignListener) {
  testing::TempDir dir;
  const auto runtime = dir / "run";
  std::filesystem::create_directories(runtime);
  testing::ForeignListener squatter((runtime / posix::kLlmSocket).string(), "{}");
  try {
    posix::EndpointPublisher publisher(runtime, identity(1));
    FAIL() << "served behind a squatter";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), "pid " + std::to_string(squatter.pid()))) << e.what();
    EXPECT_TRUE(contains(e.what(), "refusing to serve behind it")) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(runtime / posix::kLlmPublicationFile));
}

TEST(EndpointPublisher, ReplacesASocketFileNobodyServes) {
  testing::TempDir dir;
  const auto socket = dir / "llm.sock";
  {
    // A killed server's socket: bound, never unlinked, nobody listening.
    posix::Fd stale = posix::seqpacket_socket();
    const posix::SocketAddress a(socket.string());
    ASSERT_EQ(::bind(stale.get(), a.get(), a.size()), 0);
  }
  ASSERT_TRUE(std::filesystem::exists(socket));
  posix::SocketServer server(socket, [](std::string_view, std::stop_token) {
    return discovery::encode_error(discovery::kInternal, "test");
  });
  EXPECT_EQ(ask(socket, "{}").error->message, "test");
}

TEST(EndpointPublisher, ANonSocketAtThePathIsNeverReplaced) {
  testing::TempDir dir;
  write_file_atomically(dir / "llm.sock", "precious");
  EXPECT_THROW(posix::SocketServer(dir / "llm.sock",
                                   [](std::string_view, std::stop_token) { return std::string(); }),
               Error);
  EXPECT_EQ(read_file(dir / "llm.sock"), "precious");
}

TEST(SocketServer, PeerPolicyAllowsOwnerRootAndGroupOnly) {
  EXPECT_TRUE(posix::peer_allowed({1, 1000, 1000, {}}, 1000, 500));
  EXPECT_TRUE(posix::peer_allowed({1, 0, 0, {}}, 1000, 500));
  EXPECT_TRUE(posix::peer_allowed({1, 2000, 500, {}}, 1000, 500));
  EXPECT_TRUE(posix::peer_allowed({1, 2000, 2000, {20, 500}}, 1000, 500));
  EXPECT_FALSE(posix::peer_allowed({1, 2000, 2000, {}}, 1000, 500));
  EXPECT_FALSE(posix::peer_allowed({1, 2000, 2000, {20, 501}}, 1000, 500));
}

// Connects to `socket` as uid/gid 65534 with `groups` as its supplementary groups (a forked
// child, root dropping its rights) and returns the one answer to a `status` request.
std::string status_as_stranger(const std::filesystem::path& socket,
                               const std::vector<gid_t>& groups) {
  const posix::SocketAddress address(socket.string());
  const std::string request = R"({"v":1,"op":"status"})";
  int out[2];
  if (::pipe(out) != 0) throw Error("pipe() failed");
  const pid_t child = ::fork();
  if (child < 0) throw Error("fork() failed");
  if (child == 0) {
    ::close(out[0]);
    if (::setgroups(groups.size(), groups.data()) != 0) ::_exit(2);
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
    const int s = ::socket(AF_UNIX, SOCK_SEQPACKET, 0);
    if (s < 0 || ::connect(s, address.get(), address.size()) != 0) ::_exit(3);
    if (::send(s, request.data(), request.size(), 0) < 0) ::_exit(4);
    char buffer[65536];
    const ssize_t n = ::recv(s, buffer, sizeof buffer, 0);
    if (n <= 0 || ::write(out[1], buffer, static_cast<std::size_t>(n)) != n) ::_exit(5);
    ::_exit(0);
  }
  ::close(out[1]);
  std::string answer;
  char buffer[4096];
  for (ssize_t n; (n = ::read(out[0], buffer, sizeof buffer)) > 0;) {
    answer.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw Error("the stranger's client failed (status " + std::to_string(status) + ")");
  }
  return answer;
}

TEST(SocketServer, AStrangerGetsTheProtocolsErrorShapeAGroupMemberAnAnswer) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to become another user";
  testing::TempDir dir;
  std::filesystem::permissions(dir.path(), std::filesystem::perms::all);
  const auto socket = dir / "llm.sock";
  posix::SocketServer server(socket, [](std::string_view, std::stop_token) {
    return std::string(R"({"v":1,"ok":true,"state":"starting"})");
  });
  // Past the file mode on purpose: the credential check must hold on its own.
  ASSERT_EQ(::chmod(socket.c_str(), 0666), 0);
  struct stat info {};
  ASSERT_EQ(::stat(socket.c_str(), &info), 0);

  const auto refused = discovery::decode_response(status_as_stranger(socket, {}));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error->code, posix::kForbidden);
  EXPECT_TRUE(contains(refused.error->message, "uid 65534")) << refused.error->message;

  // A member by a supplementary group (usermod -aG tandem alice) is let in.
  const auto member = discovery::decode_response(status_as_stranger(socket, {info.st_gid}));
  ASSERT_TRUE(member.ok());
  EXPECT_EQ(member.endpoint->state, State::starting);
}

TEST(LlmResolver, AStaleFileWithADeadPidIsNeverUsed) {
  testing::TempDir dir;
  const pid_t dead = testing::dead_pid();
  posix::write_runtime_file(dir / posix::kLlmPublicationFile,
                            ready_at(identity(static_cast<std::uint32_t>(dead)), 8031));
  posix::LlmResolver resolver(dir.path());
  std::string why;
  EXPECT_FALSE(resolver.resolve(why));
  EXPECT_TRUE(contains(why, "pid " + std::to_string(dead) + ", which is not running")) << why;
  try {
    resolver.wait_ready(300ms, {});
    FAIL() << "a stale publication was waited into use";
  } catch (const StopRequested&) {
    FAIL() << "no stop was requested";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), "not ready within 300 ms")) << e.what();
    EXPECT_TRUE(contains(e.what(), "not running")) << e.what();
  }
}

TEST(LlmResolver, AForeignProcessOnTheSocketIsRefused) {
  testing::TempDir dir;
  // The file names a live process (this one); a stranger serves the socket and even answers with
  // the file's own instance and port: its PID gives it away.
  const auto published = ready_at(identity(static_cast<std::uint32_t>(::getpid())), 8031);
  posix::write_runtime_file(dir / posix::kLlmPublicationFile, published);
  testing::ForeignListener stranger((dir / posix::kLlmSocket).string(),
                                    discovery::encode_endpoint(published));
  posix::LlmResolver resolver(dir.path());
  std::string why;
  EXPECT_FALSE(resolver.resolve(why));
  EXPECT_TRUE(contains(why, "served by pid " + std::to_string(stranger.pid()))) << why;
  EXPECT_TRUE(contains(why, "not trusted")) << why;
}

TEST(LlmResolver, MissingAndStartingPublicationsSayWhy) {
  testing::TempDir dir;
  posix::LlmResolver resolver(dir / "none");
  std::string why;
  EXPECT_FALSE(resolver.resolve(why));
  EXPECT_TRUE(contains(why, "has not published")) << why;
  posix::write_runtime_file(dir / posix::kLlmPublicationFile,
                            identity(static_cast<std::uint32_t>(::getpid())));
  posix::LlmResolver here(dir.path());
  EXPECT_FALSE(here.resolve(why));
  EXPECT_TRUE(contains(why, "TandemLlm is starting")) << why;
  write_file_atomically(dir / posix::kLlmPublicationFile, "{\"v\":1,");
  EXPECT_FALSE(here.resolve(why));
  EXPECT_TRUE(contains(why, posix::kLlmPublicationFile)) << why;
}

TEST(LlmResolver, WaitEndsAtOnceOnStop) {
  testing::TempDir dir;
  posix::LlmResolver resolver(dir / "run");  // not even created: the parent is watched
  std::stop_source stop;
  const auto started = std::chrono::steady_clock::now();
  auto waiting =
      std::async(std::launch::async, [&] { resolver.wait_ready(60s, stop.get_token()); });
  EXPECT_EQ(waiting.wait_for(300ms), std::future_status::timeout) << "wait_ready did not block";
  stop.request_stop();
  ASSERT_EQ(waiting.wait_for(5s), std::future_status::ready);
  EXPECT_THROW(waiting.get(), StopRequested);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST(RuntimeDir, TestOverrideThenSystemdsFirstFolderThenRunTandem) {
  ::unsetenv("TANDEM_RUNTIME_DIR");
  ::unsetenv("RUNTIME_DIRECTORY");
  EXPECT_EQ(posix::runtime_dir(), "/run/tandem");
  ::setenv("RUNTIME_DIRECTORY", "/run/tandem:/run/other", 1);
  EXPECT_EQ(posix::runtime_dir(), "/run/tandem");
  ::setenv("RUNTIME_DIRECTORY", "/run/x", 1);
  EXPECT_EQ(posix::runtime_dir(), "/run/x");
  ::setenv("TANDEM_RUNTIME_DIR", "/tmp/t", 1);
  EXPECT_EQ(posix::runtime_dir(), "/tmp/t");
  ::unsetenv("TANDEM_RUNTIME_DIR");
  ::unsetenv("RUNTIME_DIRECTORY");
}

TEST(DirWatch, AChangeWakesItATimeoutAndAStopDoNot) {
  testing::TempDir dir;
  posix::DirWatch watch(dir.path());
  EXPECT_FALSE(watch.wait_for_change(50ms, {}));
  write_file_atomically(dir / "a.json", "{}");  // before the wait: queued, not lost
  EXPECT_TRUE(watch.wait_for_change(5s, {}));
  EXPECT_FALSE(watch.wait_for_change(50ms, {})) << "events were not consumed";
  std::stop_source stop;
  stop.request_stop();
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(watch.wait_for_change(60s, stop.get_token()));
  EXPECT_THROW(watch.wait(60s, stop.get_token()), StopRequested);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

TEST(DirWatch, AMissingFolderIsWatchedThroughItsParent) {
  testing::TempDir dir;
  posix::DirWatch watch(dir / "run" / "deeper");
  EXPECT_EQ(watch.watched(), dir.path());
  std::filesystem::create_directories(dir / "run");
  EXPECT_TRUE(watch.wait_for_change(5s, {}));
}

}  // namespace
}  // namespace tandem
