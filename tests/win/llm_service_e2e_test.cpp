// TandemLlm as a real service under the (Wine) SCM: registered and started with sc.exe,
// its publication read from the registry and the pipe, its API called on both loopbacks.
#include <windows.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "common/paths.h"
#include "common/win32/pipe_client.h"
#include "common/win32/registry.h"
#include "common/win32/registry_publication.h"
#include "common/win32/scm.h"
#include "tests/support/loopback_socket.h"
#include "tests/support/raw_http_client.h"
#include "tests/support/win_process.h"

namespace tandem {
namespace {

using namespace std::chrono_literals;
using testing::Family;

constexpr const char* kService = "TandemLlm";

std::string windows_path(std::string path) {
  for (auto& c : path) c = c == '/' ? '\\' : c;
  return path;
}

class LlmServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = testing::find_free_ports(4);
    write_config(nlohmann::json::object());
    remove_service();
    auto sc = testing::run_process("sc.exe create " + std::string(kService) + " binPath= \"" +
                                   windows_path(TANDEM_LLM_EXE) + "\" start= demand");
    ASSERT_EQ(sc.exit_code, 0u) << sc.output << sc.errors;
  }

  void TearDown() override {
    remove_service();
    if (HasFailure()) {
      auto log = read_file_if_exists(paths::logs_dir() / "tandem-llm.log");
      std::printf("--- tandem-llm.log ---\n%s\n", log ? log->c_str() : "(none)");
    }
    std::error_code ignored;
    std::filesystem::remove(paths::llm_server_config(), ignored);
  }

  void write_config(const nlohmann::json& extra) {
    // No `model`: the server loads the bundled tandem-tiny.gguf beside it, as a fresh install does.
    nlohmann::json config = {
        {"port", port_}, {"port_range", 4}, {"parallel", 2}, {"ctx_size", 512}, {"threads", 1}};
    config.update(extra);
    std::filesystem::create_directories(paths::config_dir());
    write_file_atomically(paths::llm_server_config(), config.dump(2));
  }

  static void remove_service() {
    auto scm = win32::ScManager::open(SC_MANAGER_ALL_ACCESS);
    auto service = win32::Service::try_open(scm, kService);
    if (!service) return;
    if (service->query().state != ServiceRunState::stopped) {
      service->stop();
      service->wait_for_state(ServiceRunState::stopped, 30s);
    }
    service->remove();
  }

  // sc start, then the real state change to RUNNING; returns the time it took.
  std::chrono::milliseconds start_service() {
    auto begin = std::chrono::steady_clock::now();
    auto sc = testing::run_process("sc.exe start " + std::string(kService));
    EXPECT_EQ(sc.exit_code, 0u) << sc.output << sc.errors;
    auto scm = win32::ScManager::open();
    win32::Service::open(scm, kService, SERVICE_QUERY_STATUS)
        .wait_for_state(ServiceRunState::running, 60s);
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 begin);
  }

  // sc start for a service that is to fail at start: its status once it has stopped.
  static win32::ServiceStatusInfo start_until_stopped() {
    testing::run_process("sc.exe start " + std::string(kService));
    auto scm = win32::ScManager::open();
    auto service = win32::Service::open(scm, kService, SERVICE_QUERY_STATUS);
    try {
      return service.wait_for_state(ServiceRunState::stopped, 60s);
    } catch (const tandem::Error&) {
      // wait_for_state may report the stop as an error when it waited for another state.
      return service.query();
    }
  }

  std::uint16_t port_ = 0;
};

TEST_F(LlmServiceTest, ScStartPublishesEndpointAndScStopWithdrawsIt) {
  auto cold_start = start_service();
  std::printf("sc start -> RUNNING: %lld ms\n", static_cast<long long>(cold_start.count()));

  auto scm = win32::ScManager::open();
  auto status = win32::Service::open(scm, kService, SERVICE_QUERY_STATUS).query();
  auto published = win32::read_publication(win32::kLlmServerKey);
  ASSERT_TRUE(published);
  EXPECT_EQ(published->state, discovery::State::ready);
  EXPECT_EQ(published->port, port_);
  EXPECT_EQ(published->url, "http://127.0.0.1:" + std::to_string(port_));
  EXPECT_EQ(published->pid, status.pid);
  EXPECT_EQ(published->pipe_name, "\\\\.\\pipe\\tandem-llm");
  EXPECT_EQ(published->protocol_version, 1);
  EXPECT_FALSE(published->instance_id.empty());
  EXPECT_EQ(published->model, "tandem-tiny");

  auto call = win32::call_pipe("tandem-llm", R"({"v":1,"op":"resolve"})", 5s);
  EXPECT_EQ(call.server_pid, status.pid);
  auto resolved = nlohmann::json::parse(call.response);
  EXPECT_EQ(resolved["ok"], true) << call.response;
  EXPECT_EQ(resolved["port"], port_);
  EXPECT_EQ(resolved["instance"], published->instance_id);
  EXPECT_EQ(resolved["addresses"], nlohmann::json({"127.0.0.1", "::1"}));

  for (Family family : {Family::v4, Family::v6}) {
    testing::RawHttpConnection http(testing::loopback(family), port_);
    auto health = http.request("GET", "/health");
    EXPECT_EQ(health.status, 200) << testing::loopback(family) << " " << health.body;
    EXPECT_EQ(health.header("x-tandem-instance"), published->instance_id);
    auto chat = http.request(
        "POST", "/v1/chat/completions",
        R"({"messages":[{"role":"user","content":"Hi"}],"max_tokens":4,"logprobs":true,"top_logprobs":2})",
        "Content-Type: application/json\r\n");
    ASSERT_EQ(chat.status, 200) << chat.body;
    auto body = nlohmann::json::parse(chat.body);
    EXPECT_EQ(body["object"], "chat.completion");
    EXPECT_EQ(body["choices"][0]["message"]["role"], "assistant");
    EXPECT_TRUE(body["choices"][0]["logprobs"]["content"].is_array());
    EXPECT_EQ(body["usage"]["completion_tokens"], 4);
  }

  // What a user's script calls: the verified URL, and status for people and scripts.
  auto url = testing::run_process("\"" + windows_path(TANDEM_CTL_EXE) + "\" url");
  EXPECT_EQ(url.exit_code, 0u) << url.errors;
  EXPECT_EQ(url.output, published->url + "\r\n");
  auto json = testing::run_process("\"" + windows_path(TANDEM_CTL_EXE) + "\" status --json");
  EXPECT_EQ(json.exit_code, 0u) << json.errors;
  auto parsed = nlohmann::json::parse(json.output);
  EXPECT_EQ(parsed["llm"]["port"], port_);
  EXPECT_EQ(parsed["llm"]["instance"], published->instance_id);
  EXPECT_EQ(parsed["verified"], true);
  // Issue #18: the CPU variant chosen from the DLLs beside tandem-llm.exe, and the CPU device.
  const std::string variant = parsed["llm"]["cpu_variant"];
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(TANDEM_LLM_EXE).parent_path() /
                                      ("ggml-cpu-" + variant + ".dll")))
      << json.output;
  EXPECT_NE(parsed["llm"]["cpu_features"].get<std::string>(), "") << json.output;
  ASSERT_FALSE(parsed["llm"]["devices"].empty()) << json.output;
  EXPECT_EQ(parsed["llm"]["devices"][0]["name"], "CPU");
  EXPECT_EQ(parsed["llm"]["devices"][0]["type"], "cpu");
  auto text = testing::run_process("\"" + windows_path(TANDEM_CTL_EXE) + "\" status");
  EXPECT_NE(text.output.find("cpu variant    " + variant + " ("), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("device         CPU: "), std::string::npos) << text.output;

  auto sc = testing::run_process("sc.exe stop " + std::string(kService));
  EXPECT_EQ(sc.exit_code, 0u) << sc.output << sc.errors;
  auto stopped = win32::Service::open(scm, kService, SERVICE_QUERY_STATUS)
                     .wait_for_state(ServiceRunState::stopped, 30s);
  EXPECT_EQ(stopped.win32_exit_code, 0u);
  auto key = win32::RegistryKey::open(HKEY_LOCAL_MACHINE, win32::kLlmServerKey);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->get_string("State"), "stopped");
  EXPECT_FALSE(key->get_dword("Port"));
  EXPECT_FALSE(key->get_string("Url"));

  auto gone = testing::run_process("\"" + windows_path(TANDEM_CTL_EXE) + "\" url");
  EXPECT_EQ(gone.exit_code, 1u) << gone.errors;
  EXPECT_NE(gone.errors.find("TandemLlm is stopped"), std::string::npos) << gone.errors;
}

TEST_F(LlmServiceTest, StalePublicationIsNeverTrusted) {
  // A crashed server's leftovers: State=ready with a port, but a dead pid and nobody serving.
  {
    auto key = win32::RegistryKey::create(HKEY_LOCAL_MACHINE, win32::kLlmServerKey);
    key.set_string("State", "ready");
    key.set_dword("Port", port_);
    key.set_string("Url", "http://127.0.0.1:" + std::to_string(port_));
    key.set_dword("Pid", 999999);
    key.set_string("InstanceId", "00000000-dead-4000-8000-000000000000");
    key.set_string("PipeName", "\\\\.\\pipe\\tandem-llm");
    key.set_string("Model", "stale");
    key.set_string("StartedAt", "2020-01-01T00:00:00Z");
    key.set_dword("ProtocolVersion", 1);
  }
  // And somebody else answering on that port.
  auto other = testing::hold_port(Family::v4, port_);
  auto url = testing::run_process("\"" + windows_path(TANDEM_CTL_EXE) + "\" url");
  EXPECT_EQ(url.exit_code, 1u) << url.errors;
  EXPECT_NE(url.errors.find("stale publication"), std::string::npos) << url.errors;
  auto wait = testing::run_process("\"" + windows_path(TANDEM_CTL_EXE) + "\" wait --timeout 1");
  EXPECT_EQ(wait.exit_code, 1u) << wait.errors;
  EXPECT_NE(wait.errors.find("not ready within 1000 ms"), std::string::npos) << wait.errors;
}

TEST_F(LlmServiceTest, WaitReturnsOnceTheServiceIsReady) {
  // tandemctl wait blocks on the pipe/registry, started before the service.
  auto waiter = std::async(std::launch::async, [] {
    return testing::run_process("\"" + windows_path(TANDEM_CTL_EXE) + "\" wait --timeout 60");
  });
  start_service();
  auto result = waiter.get();
  EXPECT_EQ(result.exit_code, 0u) << result.errors;
  EXPECT_NE(result.errors.find("waiting up to"), std::string::npos) << result.errors;
  EXPECT_EQ(result.output, "http://127.0.0.1:" + std::to_string(port_) + "\r\n");
}

struct HeldFamilies {
  bool v4;
  bool v6;
};

class LlmServicePortTest : public LlmServiceTest,
                           public ::testing::WithParamInterface<HeldFamilies> {};

TEST_P(LlmServicePortTest, TakenPortMovesBothFamiliesToTheNext) {
  std::optional<testing::Socket> held_v4, held_v6;
  if (GetParam().v4) held_v4 = testing::hold_port(Family::v4, port_);
  if (GetParam().v6) held_v6 = testing::hold_port(Family::v6, port_);
  start_service();
  auto published = win32::read_publication(win32::kLlmServerKey);
  ASSERT_TRUE(published);
  EXPECT_EQ(published->port, port_ + 1);
  for (Family family : {Family::v4, Family::v6}) {
    testing::RawHttpConnection http(testing::loopback(family), published->port);
    EXPECT_EQ(http.request("GET", "/health").status, 200) << testing::loopback(family);
  }
}

INSTANTIATE_TEST_SUITE_P(Held, LlmServicePortTest,
                         ::testing::Values(HeldFamilies{true, false}, HeldFamilies{false, true},
                                           HeldFamilies{true, true}),
                         [](const auto& param_info) {
                           return std::string(param_info.param.v4 ? "V4" : "") +
                                  (param_info.param.v6 ? "V6" : "");
                         });

TEST_F(LlmServiceTest, PipeSquatterMakesTheStartFailLoudly) {
  win32::FileHandle squatter(CreateNamedPipeW(L"\\\\.\\pipe\\tandem-llm", PIPE_ACCESS_DUPLEX,
                                              PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE, 1, 4096,
                                              4096, 0, nullptr));
  ASSERT_TRUE(squatter);
  const auto final_status = start_until_stopped();
  EXPECT_EQ(final_status.state, ServiceRunState::stopped);
  EXPECT_EQ(final_status.win32_exit_code, static_cast<DWORD>(ERROR_SERVICE_SPECIFIC_ERROR));
  EXPECT_EQ(final_status.service_exit_code, 3u);  // kExitPublishFailed
  auto published = win32::read_publication(win32::kLlmServerKey);
  EXPECT_TRUE(!published || published->state != discovery::State::ready);
  auto log = read_file_if_exists(paths::logs_dir() / "tandem-llm.log");
  ASSERT_TRUE(log);
  EXPECT_NE(log->find("cannot publish the endpoint"), std::string::npos);
}

TEST_F(LlmServiceTest, InvalidConfigStopsWithAClearErrorAndExitCode) {
  write_config({{"port", "eighty"}});
  const auto final_status = start_until_stopped();
  EXPECT_EQ(final_status.service_exit_code, 2u);  // kExitBadConfig
  auto log = read_file_if_exists(paths::logs_dir() / "tandem-llm.log");
  ASSERT_TRUE(log);
  EXPECT_NE(log->find("llm-server.json:"), std::string::npos) << *log;
  EXPECT_NE(log->find("field 'port': expected an integer from 1 to 65535, got a string"),
            std::string::npos)
      << *log;
}

// Issue #18: tandem-llm.exe with its DLLs but no ggml-cpu-*.dll beside it stops with exit code 6
// and says which folder it looked in; a module in the current directory does not stand in.
TEST_F(LlmServiceTest, WithoutACpuBackendBesideItTheServiceStopsWithExitCode6) {
  namespace fs = std::filesystem;
  const fs::path installed = fs::path(TANDEM_LLM_EXE).parent_path();
  const fs::path lonely = fs::temp_directory_path() / "tandem-no-backend";
  fs::remove_all(lonely);
  fs::create_directories(lonely);
  for (const char* file : {"tandem-llm.exe", "libllama.dll", "ggml.dll", "ggml-base.dll"}) {
    fs::copy_file(installed / file, lonely / file);
  }
  remove_service();
  auto sc = testing::run_process("sc.exe create " + std::string(kService) + " binPath= \"" +
                                 path_utf8(lonely / "tandem-llm.exe") + "\" start= demand");
  ASSERT_EQ(sc.exit_code, 0u) << sc.output << sc.errors;
  const auto final_status = start_until_stopped();
  EXPECT_EQ(final_status.state, ServiceRunState::stopped);
  EXPECT_EQ(final_status.service_exit_code, 6u);  // kExitNoBackend
  auto log = read_file_if_exists(paths::logs_dir() / "tandem-llm.log");
  ASSERT_TRUE(log);
  EXPECT_NE(log->find("no CPU backend loaded from " + path_utf8(lonely)), std::string::npos)
      << *log;
  remove_service();
  std::error_code ignored;
  fs::remove_all(lonely, ignored);
}

}  // namespace
}  // namespace tandem
