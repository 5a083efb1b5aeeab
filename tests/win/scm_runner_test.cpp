// Services run by the real Wine SCM: tandem-fake-service.exe (next to this exe) is created,
// started, stopped and deleted through common/win32/scm, and run with --console as a child.
// Wine ends services when no ordinary Wine process is left; this test process is one.
#include <windows.h>

#include <gtest/gtest.h>

#include <shellapi.h>
#include <tlhelp32.h>
#include <atomic>
#include <chrono>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/service_body.h"
#include "common/win32/error.h"
#include "common/win32/handle.h"
#include "common/win32/registry.h"
#include "common/win32/scm.h"
#include "common/win32/strings.h"
#include "common/win32/waits.h"
#include "tests/support/temp_dir.h"

namespace tandem::win32 {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kStateTimeout = 20s;
const std::string kMarkerRoot = "SOFTWARE\\TandemTest";

std::string exe_folder() {
  std::wstring path(MAX_PATH, L'\0');
  DWORD n = GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size()));
  if (n == 0 || n == path.size()) throw_last_error("GetModuleFileNameW(test exe)");
  path.resize(n);
  return narrow(path.substr(0, path.find_last_of(L'\\') + 1));
}

std::string fake_service_path() {
  return exe_folder() + "tandem-fake-service.exe";
}

std::string unique_name(const std::string& tag) {
  static std::atomic<int> counter{0};
  return "TandemFake" + tag + std::to_string(GetCurrentProcessId()) + "_" +
         std::to_string(counter++);
}

std::optional<std::string> marker_string(const std::string& name, const std::string& value) {
  auto key = RegistryKey::open(HKEY_LOCAL_MACHINE, kMarkerRoot + "\\" + name);
  return key ? key->get_string(value) : std::nullopt;
}

bool process_alive(DWORD pid) {
  Handle process(OpenProcess(SYNCHRONIZE, FALSE, pid));
  return process && WaitForSingleObject(process.get(), 0) == WAIT_TIMEOUT;
}

// Waits on registry change notifications until the marker's State is `state`.
void wait_for_marker_state(const std::string& name, const std::string& state,
                           std::chrono::milliseconds timeout) {
  RegistryKey root = RegistryKey::create(HKEY_LOCAL_MACHINE, kMarkerRoot);
  Handle changed(CreateEventW(nullptr, FALSE, FALSE, nullptr));
  ASSERT_TRUE(changed);
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    root.notify_change(changed.get());  // armed before looking, so no change is missed
    if (marker_string(name, "State") == state) return;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    ASSERT_GT(left.count(), 0) << name << " never reached State=" << state << " in the registry";
    WaitForSingleObject(changed.get(), static_cast<DWORD>(left.count()));
  }
}

bool running_under_wine() {
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  return ntdll && GetProcAddress(ntdll, "wine_get_version") != nullptr;
}

int count_processes(const std::wstring& exe_name) {
  Handle snapshot(CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0));
  if (!snapshot || snapshot.get() == INVALID_HANDLE_VALUE) {
    snapshot.release();
    throw_last_error("CreateToolhelp32Snapshot(processes)");
  }
  PROCESSENTRY32W entry{};
  entry.dwSize = sizeof(entry);
  int count = 0;
  for (BOOL more = Process32FirstW(snapshot.get(), &entry); more;
       more = Process32NextW(snapshot.get(), &entry)) {
    if (_wcsicmp(entry.szExeFile, exe_name.c_str()) == 0) ++count;
  }
  return count;
}

// Wine starts services.exe with the first Wine process of a session (and ends it with the last),
// so under CTest each test process brings a new one, which then starts its boot-time services.
// A StartServiceW racing with those starts can get the wrong process on its control pipe (Wine 8
// names the pipe from one shared counter) and fail with ERROR_SERVICE_REQUEST_TIMEOUT, so each
// test first waits until every automatic service has been started (or has failed to start).
void wait_for_boot_time_services() {
  // Two SCMs in one prefix share the control-pipe counter and break every service start with
  // ERROR_SERVICE_REQUEST_TIMEOUT; say so instead of timing out.
  const int managers = count_processes(L"services.exe");
  if (managers != 1) {
    throw Error(std::to_string(managers) +
                " services.exe processes are running in this Wine prefix; restart its wineserver "
                "(a first `wineboot -i` leaves two behind)");
  }
  const ScManager scm = ScManager::open(SC_MANAGER_CONNECT | SC_MANAGER_ENUMERATE_SERVICE);
  DWORD needed = 0;
  DWORD count = 0;
  std::vector<std::uint64_t> buffer(4096);
  for (;;) {
    const auto bytes = static_cast<DWORD>(buffer.size() * sizeof(std::uint64_t));
    if (EnumServicesStatusExW(scm.get(), SC_ENUM_PROCESS_INFO, SERVICE_WIN32 | SERVICE_DRIVER,
                              SERVICE_STATE_ALL, reinterpret_cast<BYTE*>(buffer.data()), bytes,
                              &needed, &count, nullptr, nullptr)) {
      break;
    }
    if (GetLastError() != ERROR_MORE_DATA) throw_last_error("EnumServicesStatusExW(all)");
    buffer.resize(needed / sizeof(std::uint64_t) + 1);
  }
  const auto* entries = reinterpret_cast<const ENUM_SERVICE_STATUS_PROCESSW*>(buffer.data());
  for (DWORD i = 0; i < count; ++i) {
    if (entries[i].ServiceStatusProcess.dwCurrentState == SERVICE_RUNNING) continue;
    const std::string name = narrow(entries[i].lpServiceName);
    const Service service = Service::open(scm, name, SERVICE_QUERY_STATUS | SERVICE_QUERY_CONFIG);
    if (service.query_config().start_type != StartType::automatic) continue;
    service.wait_until(
        [](const ServiceStatusInfo& s) {
          return s.state == ServiceRunState::running ||
                 (s.state == ServiceRunState::stopped &&
                  s.win32_exit_code != ERROR_SERVICE_NEVER_STARTED);
        },
        kStateTimeout, "to finish its boot-time start");
  }
}

class ServiceHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    scm_.emplace(ScManager::open(SC_MANAGER_ALL_ACCESS));
    const auto started = Clock::now();
    wait_for_boot_time_services();
    std::cout
        << "boot-time services settled after "
        << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count()
        << " ms\n";
  }

  void TearDown() override {
    for (const auto& name : created_) {
      try {
        if (auto service = Service::try_open(*scm_, name)) {
          const auto status = service->query();
          if (status.state != ServiceRunState::stopped) {
            if (status.state == ServiceRunState::running) service->stop();
            service->wait_for_state(ServiceRunState::stopped, kStateTimeout);
          }
          service->remove();
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << "cleaning up " << name << ": " << e.what();
      }
    }
    for (const auto& name : markers_) {
      try {
        RegistryKey::delete_tree(HKEY_LOCAL_MACHINE, kMarkerRoot + "\\" + name);
      } catch (const std::exception& e) {
        ADD_FAILURE() << "deleting the marker of " << name << ": " << e.what();
      }
    }
  }

  ServiceConfig config(const std::string& name, std::vector<std::string> extra_args = {}) {
    ServiceConfig c;
    c.name = name;
    c.display_name = "Tandem test " + name;
    c.description = "Fake service for scm_runner_test";
    c.binary_path = fake_service_path();
    c.arguments = {"--name", name, "--log-dir", narrow(logs_.path().wstring())};
    c.arguments.insert(c.arguments.end(), extra_args.begin(), extra_args.end());
    return c;
  }

  Service create(const ServiceConfig& c) {
    created_.push_back(c.name);
    markers_.push_back(c.name);
    return Service::create(*scm_, c);
  }

  // Services `a` and `b`, where `b` depends on `a`.
  std::pair<Service, Service> create_dependent_pair(const std::string& a, const std::string& b) {
    Service service_a = create(config(a));
    ServiceConfig config_b = config(b);
    config_b.dependencies = {a};
    return {std::move(service_a), create(config_b)};
  }

  // Starts, waits for RUNNING, stops, waits for STOPPED; returns the final status.
  ServiceStatusInfo run_and_stop(Service& service) {
    service.start();
    service.wait_for_state(ServiceRunState::running, kStateTimeout);
    service.stop();
    return service.wait_for_state(ServiceRunState::stopped, kStateTimeout);
  }

  std::optional<ScManager> scm_;
  std::vector<std::string> created_;
  std::vector<std::string> markers_;
  testing::TempDir logs_;
};

TEST_F(ServiceHostTest, StartsRunsAndStopsUnderTheScm) {
  const std::string name = unique_name("Basic");
  Service service = create(config(name));

  const auto started = Clock::now();
  service.start({"alpha", "two words"});
  const ServiceStatusInfo running = service.wait_for_state(ServiceRunState::running, kStateTimeout);
  const auto to_running =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  std::cout << "start() to RUNNING: " << to_running.count() << " ms\n";
  RecordProperty("start_to_running_ms", std::to_string(to_running.count()));

  EXPECT_EQ(running.state, ServiceRunState::running);
  ASSERT_NE(running.pid, 0u);
  EXPECT_TRUE(process_alive(running.pid));
  EXPECT_NE(running.controls_accepted & SERVICE_ACCEPT_STOP, 0u);
  EXPECT_NE(running.controls_accepted & SERVICE_ACCEPT_PRESHUTDOWN, 0u);
  EXPECT_EQ(running.controls_accepted & SERVICE_ACCEPT_SHUTDOWN, 0u);
  EXPECT_EQ(running.controls_accepted & SERVICE_ACCEPT_PAUSE_CONTINUE, 0u);
  EXPECT_EQ(marker_string(name, "State"), "running");
  EXPECT_EQ(marker_string(name, "StartArgs"), "alpha|two words");
  auto key = RegistryKey::open(HKEY_LOCAL_MACHINE, kMarkerRoot + "\\" + name);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->get_dword("Pid"), running.pid);

  Handle process(OpenProcess(SYNCHRONIZE, FALSE, running.pid));
  ASSERT_TRUE(process);
  service.stop();
  const ServiceStatusInfo stopped = service.wait_for_state(ServiceRunState::stopped, kStateTimeout);
  EXPECT_EQ(stopped.win32_exit_code, static_cast<DWORD>(NO_ERROR));
  EXPECT_EQ(stopped.service_exit_code, 0u);
  EXPECT_EQ(marker_string(name, "State"), "stopped");
  EXPECT_EQ(WaitForSingleObject(process.get(), 10000), WAIT_OBJECT_0) << "process still alive";
}

TEST_F(ServiceHostTest, NonZeroExitBecomesServiceSpecificError) {
  Service service = create(config(unique_name("Exit"), {"--exit-code", "42"}));
  const ServiceStatusInfo stopped = run_and_stop(service);
  EXPECT_EQ(stopped.win32_exit_code, static_cast<DWORD>(ERROR_SERVICE_SPECIFIC_ERROR));
  EXPECT_EQ(stopped.service_exit_code, 42u);
}

TEST_F(ServiceHostTest, ThrowingBodyBecomesServiceSpecificError) {
  Service service = create(config(unique_name("Throw"), {"--throw"}));
  const ServiceStatusInfo stopped = run_and_stop(service);
  EXPECT_EQ(stopped.win32_exit_code, static_cast<DWORD>(ERROR_SERVICE_SPECIFIC_ERROR));
  EXPECT_EQ(stopped.service_exit_code, static_cast<DWORD>(kExitBodyThrew));
}

TEST_F(ServiceHostTest, WaitingForRunningReportsAFailedStart) {
  const std::string name = unique_name("FailStart");
  Service service = create(config(name, {"--fail-start", "7"}));
  service.start();
  try {
    service.wait_for_state(ServiceRunState::running, kStateTimeout);
    FAIL() << "wait_for_state(running) returned for a service that never ran";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("waiting for service " + name + " to be running"), std::string::npos)
        << what;
    EXPECT_NE(what.find("it stopped (service exit code 7)"), std::string::npos) << what;
  }
}

TEST_F(ServiceHostTest, WaitingTimesOutWithTheLastState) {
  const std::string name = unique_name("Timeout");
  Service service = create(config(name));
  service.start();
  service.wait_for_state(ServiceRunState::running, kStateTimeout);
  const auto started = Clock::now();
  try {
    service.wait_for_state(ServiceRunState::paused, 300ms);
    FAIL() << "wait_for_state(paused) returned for a service that cannot pause";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("to be paused: still running after 300 ms"), std::string::npos) << what;
  }
  const auto waited = Clock::now() - started;
  EXPECT_GE(waited, 300ms);
  EXPECT_LT(waited, 10s);
  // The abandoned notification must not disturb the next wait on this thread.
  service.stop();
  EXPECT_EQ(service.wait_for_state(ServiceRunState::stopped, kStateTimeout).state,
            ServiceRunState::stopped);
}

FILETIME process_start_time(DWORD pid) {
  Handle process(OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid));
  if (!process) throw_last_error("OpenProcess(" + std::to_string(pid) + ")");
  FILETIME created{}, exited{}, kernel{}, user{};
  if (!GetProcessTimes(process.get(), &created, &exited, &kernel, &user)) {
    throw_last_error("GetProcessTimes(" + std::to_string(pid) + ")");
  }
  return created;
}

TEST_F(ServiceHostTest, StartingADependentStartsItsDependencyFirst) {
  const std::string a = unique_name("DepA");
  const std::string b = unique_name("DepB");
  auto [service_a, service_b] = create_dependent_pair(a, b);

  service_b.start_with_dependencies(*scm_, kStateTimeout);
  const ServiceStatusInfo status_b =
      service_b.wait_for_state(ServiceRunState::running, kStateTimeout);
  const ServiceStatusInfo status_a = service_a.query();
  ASSERT_EQ(status_a.state, ServiceRunState::running);
  EXPECT_TRUE(process_alive(status_a.pid));
  EXPECT_EQ(marker_string(a, "State"), "running");
  const FILETIME started_a = process_start_time(status_a.pid);
  const FILETIME started_b = process_start_time(status_b.pid);
  EXPECT_LE(CompareFileTime(&started_a, &started_b), 0) << a << " started after " << b;

  service_b.stop();
  service_b.wait_for_state(ServiceRunState::stopped, kStateTimeout);
  service_a.stop();
  service_a.wait_for_state(ServiceRunState::stopped, kStateTimeout);
}

// Records what the SCM itself does, so a change in Wine shows up here: Windows starts a
// dependency on StartServiceW; Wine 8 does not (hence start_with_dependencies).
TEST_F(ServiceHostTest, WhetherTheScmItselfStartsDependencies) {
  const std::string a = unique_name("ScmDepA");
  const std::string b = unique_name("ScmDepB");
  auto [service_a, service_b] = create_dependent_pair(a, b);

  service_b.start();
  service_b.wait_for_state(ServiceRunState::running, kStateTimeout);
  if (running_under_wine()) {
    EXPECT_EQ(service_a.query().state, ServiceRunState::stopped)
        << "Wine's SCM now starts dependencies itself";
  } else {
    EXPECT_EQ(service_a.query().state, ServiceRunState::running);
  }
}

TEST_F(ServiceHostTest, QueryConfigShowsWhatWasConfigured) {
  const std::string a = unique_name("CfgA");
  const std::string b = unique_name("CfgB");
  create(config(a));
  ServiceConfig config_b = config(b);
  config_b.dependencies = {a};
  config_b.description = "Depends on " + a + " \xe2\x80\x94 with UTF-8";
  Service service_b = create(config_b);
  const FailureActions recovery{std::chrono::hours(24),
                                {{FailureAction::Type::restart, std::chrono::seconds(1)},
                                 {FailureAction::Type::restart, std::chrono::seconds(5)}},
                                true};
  service_b.set_failure_actions(recovery);

  const InstalledServiceConfig installed = service_b.query_config();
  EXPECT_EQ(installed.display_name, config_b.display_name);
  EXPECT_EQ(installed.description, config_b.description);
  EXPECT_EQ(installed.binary_path_name, command_line(config_b.binary_path, config_b.arguments));
  EXPECT_EQ(installed.start_type, StartType::manual);
  EXPECT_EQ(installed.dependencies, std::vector<std::string>{a});
  if (running_under_wine()) {
    // Wine 8 accepts FAILURE_ACTIONS without storing them and knows no FAILURE_ACTIONS_FLAG.
    EXPECT_FALSE(installed.failure_actions) << "Wine now reports failure actions";
  } else {
    ASSERT_TRUE(installed.failure_actions);
    EXPECT_EQ(*installed.failure_actions, recovery);
  }
}

// Issue 17, defect 1: tandemctl's configure opened each service with SERVICE_CHANGE_CONFIG |
// SERVICE_QUERY_CONFIG and set restart actions, which ChangeServiceConfig2W documents as needing
// SERVICE_START too. Wine accepted it; Windows refuses it and the MSI rolled back. The same call
// on a handle opened with those old rights now fails here as it would there.
TEST_F(ServiceHostTest, RestartActionsNeedServiceStartOnTheHandle) {
  const std::string name = unique_name("Restart");
  create(config(name));
  const FailureActions recovery{
      std::chrono::hours(24), {{FailureAction::Type::restart, std::chrono::seconds(1)}}, true};
  Service old_rights = Service::open(*scm_, name, SERVICE_CHANGE_CONFIG | SERVICE_QUERY_CONFIG);
  try {
    old_rights.set_failure_actions(recovery);
    FAIL() << "set restart actions without SERVICE_START";
  } catch (const AccessRightMissing& e) {
    EXPECT_EQ(e.code(), static_cast<std::uint32_t>(ERROR_ACCESS_DENIED));
    EXPECT_EQ(std::string(e.what()),
              "ChangeServiceConfig2W(" + name +
                  ", FAILURE_ACTIONS with SC_ACTION_RESTART) needs SERVICE_START, which its "
                  "handle was not opened with (it has SERVICE_QUERY_CONFIG | "
                  "SERVICE_CHANGE_CONFIG); Windows refuses such a call with access denied");
  }
  // Actions without a restart need only SERVICE_CHANGE_CONFIG.
  EXPECT_NO_THROW(old_rights.set_failure_actions({std::chrono::hours(1), {}, false}));
  Service fixed =
      Service::open(*scm_, name, SERVICE_CHANGE_CONFIG | SERVICE_QUERY_CONFIG | SERVICE_START);
  EXPECT_NO_THROW(fixed.set_failure_actions(recovery));
}

// Each wrapper checks the right Microsoft documents for its call before making it, so a handle
// opened for reading can neither start, stop, pause, reconfigure nor delete the service.
TEST_F(ServiceHostTest, EachCallNeedsTheRightItsDocumentationNames) {
  const std::string name = unique_name("Rights");
  create(config(name));
  Service reader = Service::open(*scm_, name, SERVICE_QUERY_STATUS);
  EXPECT_EQ(reader.query().state, ServiceRunState::stopped);
  auto missing = [&](const std::function<void()>& call) {
    try {
      call();
      return std::string("none: the call was made");
    } catch (const AccessRightMissing& e) {
      const std::string what = e.what();
      const auto at = what.find(" needs ");
      return what.substr(0, at) + what.substr(at, what.find(',', at) - at);
    }
  };
  EXPECT_EQ(missing([&] { reader.start(); }), "StartServiceW(" + name + ") needs SERVICE_START");
  EXPECT_EQ(
      missing([&] { reader.start_with_dependencies(*scm_, std::chrono::seconds(1)); }),
      "StartServiceW(" + name + ", with dependencies) needs SERVICE_QUERY_CONFIG | SERVICE_START");
  EXPECT_EQ(missing([&] { reader.stop(); }),
            "ControlService(" + name + ", STOP) needs SERVICE_STOP");
  EXPECT_EQ(missing([&] { reader.pause(); }),
            "ControlService(" + name + ", PAUSE) needs SERVICE_PAUSE_CONTINUE");
  EXPECT_EQ(missing([&] { reader.resume(); }),
            "ControlService(" + name + ", CONTINUE) needs SERVICE_PAUSE_CONTINUE");
  EXPECT_EQ(missing([&] { reader.query_config(); }),
            "QueryServiceConfigW(" + name + ") needs SERVICE_QUERY_CONFIG");
  EXPECT_EQ(missing([&] { reader.set_description("x"); }),
            "ChangeServiceConfig2W(" + name + ", DESCRIPTION) needs SERVICE_CHANGE_CONFIG");
  EXPECT_EQ(
      missing([&] { reader.set_delayed_auto_start(true); }),
      "ChangeServiceConfig2W(" + name + ", DELAYED_AUTO_START_INFO) needs SERVICE_CHANGE_CONFIG");
  EXPECT_EQ(missing([&] { reader.set_sid_type_unrestricted(); }),
            "ChangeServiceConfig2W(" + name + ", SERVICE_SID_INFO) needs SERVICE_CHANGE_CONFIG");
  EXPECT_EQ(missing([&] { reader.remove(); }), "DeleteService(" + name + ") needs DELETE");
  EXPECT_EQ(missing([&] {
              Service::open(*scm_, name, SERVICE_QUERY_CONFIG).set_account("LocalSystem2");
            }),
            "ChangeServiceConfigW(" + name + ", account LocalSystem2) needs SERVICE_CHANGE_CONFIG");
  const std::string never = unique_name("NoCreate");
  EXPECT_EQ(missing([&] { Service::create(ScManager::open(SC_MANAGER_CONNECT), config(never)); }),
            "CreateServiceW(" + never + ") needs SC_MANAGER_CREATE_SERVICE");
  EXPECT_FALSE(Service::try_open(*scm_, never));
  // Nothing was done: still there, still stopped, still described as created.
  EXPECT_EQ(reader.query().state, ServiceRunState::stopped);
  EXPECT_EQ(Service::open(*scm_, name, SERVICE_QUERY_CONFIG).query_config().description,
            "Fake service for scm_runner_test");
}

// Issue 17, defect 4: the tray learns of a state change (a crash, a stop) through the SCM, with
// a handle opened for SERVICE_QUERY_STATUS only, which a standard user is granted (it may not
// open the process of a service running under a virtual account).
TEST_F(ServiceHostTest, AStateWatchFiresWhenTheServiceLeavesItsState) {
  EXPECT_FALSE(ServiceStateWatch::arm(*scm_, unique_name("Missing")));
  const std::string name = unique_name("Watch");
  Service service = create(config(name));
  service.start();
  service.wait_for_state(ServiceRunState::running, kStateTimeout);
  auto watch = ServiceStateWatch::arm(*scm_, name);
  ASSERT_TRUE(watch);
  const HANDLE events[] = {watch->event()};
  EXPECT_FALSE(wait_any(events, std::chrono::milliseconds(0), "state watch")) << "set unchanged";
  service.stop();
  EXPECT_EQ(wait_any(events, kStateTimeout, "state watch"), 0u)
      << "no notification within " << kStateTimeout.count() << " ms of the stop";
}

TEST_F(ServiceHostTest, ErrorsNameTheCallAndTheService) {
  const std::string missing = unique_name("Missing");
  EXPECT_FALSE(Service::try_open(*scm_, missing));
  try {
    Service::open(*scm_, missing);
    FAIL() << "opened a service that does not exist";
  } catch (const Win32Error& e) {
    EXPECT_EQ(e.code(), static_cast<std::uint32_t>(ERROR_SERVICE_DOES_NOT_EXIST));
    EXPECT_EQ(std::string(e.what()).rfind("OpenServiceW(" + missing + ") failed: ", 0), 0u)
        << e.what();
  }

  const std::string name = unique_name("Errors");
  Service service = create(config(name));
  try {
    service.stop();
    FAIL() << "stopped a service that is not running";
  } catch (const Win32Error& e) {
    EXPECT_EQ(e.code(), static_cast<std::uint32_t>(ERROR_SERVICE_NOT_ACTIVE));
    EXPECT_EQ(std::string(e.what()).rfind("ControlService(" + name + ", STOP) failed: ", 0), 0u)
        << e.what();
  }
  try {
    create(config(name));
    FAIL() << "created the same service twice";
  } catch (const Win32Error& e) {
    EXPECT_EQ(e.code(), static_cast<std::uint32_t>(ERROR_SERVICE_EXISTS));
    EXPECT_EQ(std::string(e.what()).rfind("CreateServiceW(" + name + ") failed: ", 0), 0u)
        << e.what();
  }
}

// A child process that is ended (if still running) when the test is done with it.
struct Child {
  Handle process;
  DWORD pid = 0;
  Child() = default;
  Child(Child&&) = default;
  ~Child() {
    if (process && WaitForSingleObject(process.get(), 0) == WAIT_TIMEOUT) {
      TerminateProcess(process.get(), 1);
    }
  }
  DWORD wait_for_exit(std::chrono::milliseconds timeout) const {
    if (WaitForSingleObject(process.get(), static_cast<DWORD>(timeout.count())) != WAIT_OBJECT_0) {
      ADD_FAILURE() << "child " << pid << " did not exit within " << timeout.count() << " ms";
      return STILL_ACTIVE;
    }
    DWORD code = 0;
    GetExitCodeProcess(process.get(), &code);
    return code;
  }
};

// This process's stderr, inheritable, so a child's log lines show in the test's output; or NUL.
Handle inheritable_stderr() {
  HANDLE copy = nullptr;
  if (DuplicateHandle(GetCurrentProcess(), GetStdHandle(STD_ERROR_HANDLE), GetCurrentProcess(),
                      &copy, 0, TRUE, DUPLICATE_SAME_ACCESS)) {
    return Handle(copy);
  }
  SECURITY_ATTRIBUTES inherit{sizeof(inherit), nullptr, TRUE};
  HANDLE nul = CreateFileW(L"NUL", GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, &inherit,
                           OPEN_EXISTING, 0, nullptr);
  if (nul == INVALID_HANDLE_VALUE) throw_last_error("CreateFileW(NUL)");
  return Handle(nul);
}

// With `output`, the child's stdout and stderr go there (and stdin comes from `input`, or
// nowhere); the handles must be inheritable.
Child spawn(const std::string& line, DWORD flags, HANDLE output = nullptr, HANDLE input = nullptr) {
  STARTUPINFOW startup{};
  startup.cb = sizeof(startup);
  if (output) {
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdInput = input;
    startup.hStdOutput = output;
    startup.hStdError = output;
  }
  PROCESS_INFORMATION info{};
  std::wstring mutable_line = widen(line);
  if (!CreateProcessW(nullptr, mutable_line.data(), nullptr, nullptr, output != nullptr, flags,
                      nullptr, nullptr, &startup, &info)) {
    throw_last_error("CreateProcessW(" + line + ")");
  }
  CloseHandle(info.hThread);
  Child child;
  child.process.reset(info.hProcess);
  child.pid = info.dwProcessId;
  return child;
}

// A console control event needs a console shared with the child, and a headless Wine cannot
// create one (AllocConsole gives no working conhost; GenerateConsoleCtrlEvent fails with
// ERROR_INVALID_ACCESS), so the child gets a pipe for stdin and closing it asks for the stop.
TEST_F(ServiceHostTest, ConsoleModeRunsTheSameBodyAndStopsWhenStdinCloses) {
  const std::string name = unique_name("Console");
  markers_.push_back(name);
  SECURITY_ATTRIBUTES inherit{sizeof(inherit), nullptr, TRUE};
  HANDLE read_raw = nullptr;
  HANDLE write_raw = nullptr;
  ASSERT_TRUE(CreatePipe(&read_raw, &write_raw, &inherit, 0));
  Handle read_end(read_raw);
  Handle write_end(write_raw);
  SetHandleInformation(write_end.get(), HANDLE_FLAG_INHERIT, 0);

  const std::string line =
      command_line(fake_service_path(), {"--console", "--name", name, "--exit-code", "5",
                                         "--log-dir", narrow(logs_.path().wstring())});
  Child child = spawn(line, CREATE_NEW_PROCESS_GROUP, inheritable_stderr().get(), read_end.get());
  read_end.reset();
  wait_for_marker_state(name, "running", kStateTimeout);
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ(WaitForSingleObject(child.process.get(), 0), static_cast<DWORD>(WAIT_TIMEOUT))
      << "the console run ended before it was asked to";

  write_end.reset();
  EXPECT_EQ(child.wait_for_exit(kStateTimeout), 5u);
  EXPECT_EQ(marker_string(name, "State"), "stopped");
}

TEST_F(ServiceHostTest, WithoutScmOrConsoleItPrintsAHintAndFails) {
  const std::string name = unique_name("Hint");
  SECURITY_ATTRIBUTES inherit{sizeof(inherit), nullptr, TRUE};
  HANDLE read_raw = nullptr;
  HANDLE write_raw = nullptr;
  ASSERT_TRUE(CreatePipe(&read_raw, &write_raw, &inherit, 0));
  Handle read_end(read_raw);
  Handle write_end(write_raw);
  SetHandleInformation(read_end.get(), HANDLE_FLAG_INHERIT, 0);
  Child child = spawn(command_line(fake_service_path(), {"--name", name}), 0, write_end.get());
  write_end.reset();  // the child holds the only write end now: EOF when it exits
  // Its few bytes fit the pipe's buffer, so waiting for the exit first cannot deadlock, and
  // reading after it cannot block: the write end is gone. Wine's dispatcher may first wait
  // ~10 s on the control pipe of the last service started before it gives up.
  EXPECT_EQ(child.wait_for_exit(60s), 1u);
  std::string output;
  char buffer[512];
  DWORD n = 0;
  while (ReadFile(read_end.get(), buffer, sizeof(buffer), &n, nullptr) && n > 0) {
    output.append(buffer, n);
  }
  EXPECT_NE(output.find(name + " is a Windows service"), std::string::npos) << output;
  EXPECT_NE(output.find("--console"), std::string::npos) << output;
  EXPECT_FALSE(marker_string(name, "State")) << "the body ran without the SCM or --console";
}

TEST(CommandLine, RoundTripsThroughCommandLineToArgvW) {
  const std::vector<std::string> args = {
      "plain", "two words", "tab\there", "quote\"inside", "trailing\\", "C:\\dir with space\\",
      "",      "a\\\\\"b"};
  const std::string line = command_line("C:\\Program Files\\Tandem\\tandem-llm.exe", args);
  int argc = 0;
  LPWSTR* argv = CommandLineToArgvW(widen(line).c_str(), &argc);
  ASSERT_NE(argv, nullptr);
  std::vector<std::string> parsed;
  for (int i = 0; i < argc; ++i) parsed.push_back(narrow(argv[i]));
  LocalFree(argv);
  ASSERT_EQ(parsed.size(), args.size() + 1) << line;
  EXPECT_EQ(parsed[0], "C:\\Program Files\\Tandem\\tandem-llm.exe");
  for (std::size_t i = 0; i < args.size(); ++i) EXPECT_EQ(parsed[i + 1], args[i]) << line;
}

}  // namespace
}  // namespace tandem::win32
