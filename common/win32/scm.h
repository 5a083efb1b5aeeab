// A small RAII API over the Windows Service Control Manager, for tandemctl, tests and benchmarks.
// Names and strings are UTF-8; every failure is a Win32Error naming the call and the service.
#pragma once

#include <windows.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/service_controller.h"
#include "common/win32/access.h"
#include "common/win32/handle.h"

namespace tandem::win32 {

enum class StartType { automatic, delayed_automatic, manual, disabled };
std::string_view to_string(StartType type);

// A Windows command line whose arguments CommandLineToArgvW gives back unchanged; the program
// path is always quoted (an unquoted path with spaces is a classic hijack).
std::string command_line(const std::string& program, const std::vector<std::string>& arguments);

struct ServiceConfig {
  std::string name;
  std::string display_name;  // empty: the name
  std::string description;   // empty: none
  std::string binary_path;   // Windows path of the .exe
  std::vector<std::string> arguments;
  StartType start_type = StartType::manual;
  std::vector<std::string> dependencies;  // service names started before this one
  std::string account;                    // empty: LocalSystem; e.g. "NT AUTHORITY\\LocalService"
  std::string password;                   // only for accounts that need one
};

struct FailureAction {
  enum class Type { none, restart, reboot, run_command } type = Type::restart;
  std::chrono::milliseconds delay{0};
  bool operator==(const FailureAction&) const = default;
};

struct FailureActions {
  std::chrono::seconds reset_period{0};  // failure count back to 0 after this long without one
  std::vector<FailureAction> actions;    // first, second, subsequent failures
  // Also act when the service stops itself with a non-zero exit code, not only on a crash.
  bool on_non_crash_failures = true;
  bool operator==(const FailureActions&) const = default;
};

struct ServiceStatusInfo {
  ServiceRunState state = ServiceRunState::stopped;  // SERVICE_* mapped once, in scm.cpp
  DWORD pid = 0;
  DWORD win32_exit_code = 0;    // ERROR_SERVICE_SPECIFIC_ERROR: see service_exit_code
  DWORD service_exit_code = 0;  // the body's non-zero return
  DWORD checkpoint = 0;
  DWORD wait_hint_ms = 0;
  DWORD controls_accepted = 0;
};

struct InstalledServiceConfig {
  std::string binary_path_name;  // the whole command line
  std::string display_name;
  std::string account;
  StartType start_type = StartType::manual;
  std::vector<std::string> dependencies;  // group dependencies start with '+'
  std::string description;
  // std::nullopt when this SCM does not report them (Wine 8: ERROR_INVALID_LEVEL).
  std::optional<FailureActions> failure_actions;
};

// Each wrapper below states the rights Microsoft documents for its call and checks them against
// the rights its handle was opened with (access.h) before calling: AccessRightMissing otherwise.
class ScManager {
 public:
  // SC_MANAGER_CONNECT is always granted by OpenSCManagerW, whatever `access` asks.
  static ScManager open(DWORD access = SC_MANAGER_CONNECT);
  SC_HANDLE get() const { return handle_.get(); }
  const AccessRights& rights() const { return rights_; }

 private:
  ScManager(ScHandle handle, DWORD access)
      : handle_(std::move(handle)), rights_(kServiceManagerRights, access) {}
  ScHandle handle_;
  AccessRights rights_;
};

class Service {
 public:
  static Service open(const ScManager& scm, const std::string& name,
                      DWORD access = SERVICE_ALL_ACCESS);
  // std::nullopt when no service has that name.
  static std::optional<Service> try_open(const ScManager& scm, const std::string& name,
                                         DWORD access = SERVICE_ALL_ACCESS);
  // Creates an own-process service (the handle has SERVICE_ALL_ACCESS) with the description and
  // delayed start applied; if a later step fails, the half-made service is deleted again. Needs
  // SC_MANAGER_CREATE_SERVICE.
  static Service create(const ScManager& scm, const ServiceConfig& config);

  // Rights each call needs, as Microsoft documents them, are in brackets.
  // [SERVICE_START]
  void start(const std::vector<std::string>& arguments = {});
  // Starts the services this one depends on (recursively, each waited for until RUNNING within
  // what is left of `timeout`), then this one; it does not wait for this one. The Windows SCM
  // does this itself on start(); Wine 8's does not, so tandemctl and the tests use this.
  // [SERVICE_QUERY_CONFIG | SERVICE_START]
  void start_with_dependencies(const ScManager& scm, std::chrono::milliseconds timeout,
                               const std::vector<std::string>& arguments = {});
  void stop();  // [SERVICE_STOP]
  // Pause/Continue, as the Services console sends them (the service must accept them).
  // [SERVICE_PAUSE_CONTINUE]
  void pause();
  void resume();
  ServiceStatusInfo query() const;              // [SERVICE_QUERY_STATUS]
  InstalledServiceConfig query_config() const;  // [SERVICE_QUERY_CONFIG]
  // The setters need [SERVICE_CHANGE_CONFIG]; the ones that rewrite the main configuration
  // (account, binary path) read it first, so they also need [SERVICE_QUERY_CONFIG].
  void set_description(const std::string& description);
  // Also [SERVICE_START] when an action is a restart (ChangeServiceConfig2W's documentation).
  void set_failure_actions(const FailureActions& actions);
  void set_delayed_auto_start(bool delayed);
  // The account it runs as ("LocalSystem", "NT SERVICE\\TandemLlm", ...); virtual and built-in
  // accounts need no password.
  void set_account(const std::string& account);
  // Puts the program path in quotes when it is not: an unquoted path with spaces lets
  // C:\Program.exe run instead (Wine's msiexec registers ServiceInstall paths unquoted).
  void quote_binary_path();
  // Adds the service's own SID (service_sid.h) to its token, so ACEs naming it apply.
  void set_sid_type_unrestricted();
  // Marks the service for deletion; it goes once it is stopped and every handle is closed.
  // [DELETE]
  void remove();

  // Waits for real state changes until the service is in `target`, and returns its status then.
  // Throws tandem::Error naming the service when `timeout` runs out, or when it stops while a
  // different state is awaited (with its exit codes).
  ServiceStatusInfo wait_for_state(ServiceRunState target, std::chrono::milliseconds timeout) const;
  // The general form: waits until `done(status)` holds (it may throw to give up early). State
  // changes come from NotifyServiceStatusChangeW, whose APC ends an alertable wait bounded by
  // what is left of `timeout`. If the SCM cannot notify, it waits on the service's process (so
  // only the end of the process can be awaited then). `what` completes "waiting for service X ".
  ServiceStatusInfo wait_until(const std::function<bool(const ServiceStatusInfo&)>& done,
                               std::chrono::milliseconds timeout, const std::string& what) const;

  const std::string& name() const { return name_; }
  SC_HANDLE get() const { return handle_.get(); }
  const AccessRights& rights() const { return rights_; }

 private:
  Service(ScHandle handle, std::string name, DWORD access)
      : handle_(std::move(handle)), name_(std::move(name)), rights_(kServiceRights, access) {}
  // Throws AccessRightMissing naming call(api, detail) unless the handle has `needed`.
  void require(DWORD needed, const char* api, const char* detail = nullptr) const {
    rights_.require(needed, call(api, detail));
  }
  void change_config(const wchar_t* binary_path, const wchar_t* account, const std::string& what);
  // "ControlService(TandemLlm, STOP)": the call and the service, for error messages.
  std::string call(const char* api, const char* detail = nullptr) const {
    return std::string(api) + "(" + name_ + (detail ? std::string(", ") + detail : "") + ")";
  }

  ScHandle handle_;
  std::string name_;
  AccessRights rights_;
};

namespace detail {
struct NotifySlot;
}

// A one-shot state-change notification for one service, through NotifyServiceStatusChangeW on
// a handle of its own opened with SERVICE_QUERY_STATUS only: what a standard user is granted,
// where the service's process (another account's) cannot be opened. event() is set once the
// service leaves the state it was in when armed. The SCM delivers it as an APC to the arming
// thread, so that thread must wait alertably (waits.h wait_any does).
class ServiceStateWatch {
 public:
  // std::nullopt when no such service is installed, or this SCM cannot notify (logged).
  static std::optional<ServiceStateWatch> arm(const ScManager& scm, const std::string& name);
  ServiceStateWatch(ServiceStateWatch&& other) noexcept;
  ServiceStateWatch& operator=(ServiceStateWatch&&) = delete;
  ServiceStateWatch(const ServiceStateWatch&) = delete;
  ~ServiceStateWatch();

  HANDLE event() const;

 private:
  ServiceStateWatch(Service service, detail::NotifySlot* slot)
      : service_(std::move(service)), slot_(slot) {}
  std::optional<Service> service_;
  detail::NotifySlot* slot_;  // owned; freed by the late APC when one is still due
};

}  // namespace tandem::win32
