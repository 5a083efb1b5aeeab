#include "common/win32/scm.h"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <functional>
#include <memory>
#include <utility>

#include "common/error.h"
#include "common/log.h"
#include "common/process/command_line.h"
#include "common/win32/error.h"
#include "common/win32/event.h"
#include "common/win32/process.h"
#include "common/win32/strings.h"
#include "common/win32/wait_ms.h"

namespace tandem::win32 {
namespace {

using Clock = std::chrono::steady_clock;

// "a\0b\0\0" for the SCM's lists; empty gives nullptr (no list).
std::wstring multi_sz(const std::vector<std::string>& items) {
  std::wstring out;
  for (const auto& item : items) {
    out += widen(item);
    out.push_back(L'\0');
  }
  out.push_back(L'\0');
  return out;
}

std::vector<std::string> parse_multi_sz(const wchar_t* p) {
  std::vector<std::string> items;
  if (!p) return items;
  while (*p) {
    std::wstring_view item(p);
    items.push_back(narrow(item));
    p += item.size() + 1;
  }
  return items;
}

std::string text(const wchar_t* p) {
  return p ? narrow(p) : std::string();
}

DWORD start_type_value(StartType type) {
  switch (type) {
    case StartType::automatic:
    case StartType::delayed_automatic:
      return SERVICE_AUTO_START;
    case StartType::manual:
      return SERVICE_DEMAND_START;
    case StartType::disabled:
      return SERVICE_DISABLED;
  }
  return SERVICE_DEMAND_START;
}

// The one place SERVICE_* states meet the portable ones; SERVICE_NOTIFY_<state> bits follow
// (each is 1 << (SERVICE_<state> - 1)).
constexpr std::pair<DWORD, ServiceRunState> kStates[] = {
    {SERVICE_STOPPED, ServiceRunState::stopped},
    {SERVICE_START_PENDING, ServiceRunState::start_pending},
    {SERVICE_STOP_PENDING, ServiceRunState::stop_pending},
    {SERVICE_RUNNING, ServiceRunState::running},
    {SERVICE_CONTINUE_PENDING, ServiceRunState::continue_pending},
    {SERVICE_PAUSE_PENDING, ServiceRunState::pause_pending},
    {SERVICE_PAUSED, ServiceRunState::paused},
};

ServiceRunState run_state(DWORD scm_state) {
  for (const auto& [scm, run] : kStates) {
    if (scm == scm_state) return run;
  }
  throw Error("the SCM reported an unknown service state " + std::to_string(scm_state));
}

DWORD scm_state(ServiceRunState state) {
  for (const auto& [scm, run] : kStates) {
    if (run == state) return scm;
  }
  return SERVICE_STOPPED;
}

ServiceStatusInfo from_status(const SERVICE_STATUS_PROCESS& s) {
  ServiceStatusInfo info;
  info.state = run_state(s.dwCurrentState);
  info.pid = s.dwProcessId;
  info.win32_exit_code = s.dwWin32ExitCode;
  info.service_exit_code = s.dwServiceSpecificExitCode;
  info.checkpoint = s.dwCheckPoint;
  info.wait_hint_ms = s.dwWaitHint;
  info.controls_accepted = s.dwControlsAccepted;
  return info;
}

std::string describe_exit(const ServiceStatusInfo& s) {
  if (s.win32_exit_code == ERROR_SERVICE_SPECIFIC_ERROR) {
    return "service exit code " + std::to_string(s.service_exit_code);
  }
  if (s.win32_exit_code == NO_ERROR) return "exit code 0";
  return error_text(s.win32_exit_code) + " (error " + std::to_string(s.win32_exit_code) + ")";
}

// Wine 8's QueryServiceConfigW always answers "no dependencies" (a TODO in its services.exe).
// Both it and Windows keep them under the service's registry key, which is asked when the API
// is silent.
std::vector<std::string> registry_dependencies(const std::string& name) {
  const std::wstring key = L"SYSTEM\\CurrentControlSet\\Services\\" + widen(name);
  const std::string call = "RegGetValueW(HKLM\\" + narrow(key) + "\\DependOnService)";
  DWORD bytes = 0;
  LSTATUS rc = RegGetValueW(HKEY_LOCAL_MACHINE, key.c_str(), L"DependOnService",
                            RRF_RT_REG_MULTI_SZ, nullptr, nullptr, &bytes);
  if (rc == ERROR_FILE_NOT_FOUND) return {};
  if (rc != ERROR_SUCCESS) throw_error(call, static_cast<DWORD>(rc));
  std::vector<wchar_t> value(bytes / sizeof(wchar_t) + 2, L'\0');
  bytes = static_cast<DWORD>((value.size() - 2) * sizeof(wchar_t));
  rc = RegGetValueW(HKEY_LOCAL_MACHINE, key.c_str(), L"DependOnService", RRF_RT_REG_MULTI_SZ,
                    nullptr, value.data(), &bytes);
  if (rc != ERROR_SUCCESS) throw_error(call, static_cast<DWORD>(rc));
  return parse_multi_sz(value.data());
}

bool same_name(const std::string& a, const std::string& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

// A QueryServiceConfig*W answer in a buffer aligned for the structure it holds. `query` returns
// the call's BOOL and sets `needed`. std::nullopt when the SCM does not know the level.
template <typename Query>
std::optional<std::vector<std::uint64_t>> query_buffer(Query query, const std::string& call,
                                                       bool level_optional = false) {
  std::vector<std::uint64_t> buffer(64);
  for (int attempt = 0; attempt < 4; ++attempt) {
    DWORD bytes = static_cast<DWORD>(buffer.size() * sizeof(std::uint64_t));
    DWORD needed = 0;
    if (query(reinterpret_cast<BYTE*>(buffer.data()), bytes, &needed)) return buffer;
    const DWORD err = GetLastError();
    if (err == ERROR_INVALID_LEVEL && level_optional) return std::nullopt;
    if (err != ERROR_INSUFFICIENT_BUFFER) throw_error(call, err);
    buffer.resize(needed / sizeof(std::uint64_t) + 1);
  }
  throw Error(call + " kept asking for a larger buffer");
}

}  // namespace

// NotifyServiceStatusChangeW's buffer and what its APC tells the waiting thread. The SCM may
// still queue the APC after a timed-out wait has given up; such a slot is abandoned rather than
// freed, and the late APC frees it.
struct detail::NotifySlot {
  SERVICE_NOTIFYW notify{};
  bool fired = false;
  bool abandoned = false;
  Event changed;
};

namespace {

using detail::NotifySlot;

void CALLBACK on_status_change(void* parameter) {
  auto* slot = static_cast<NotifySlot*>(static_cast<SERVICE_NOTIFYW*>(parameter)->pContext);
  if (slot->abandoned) {
    delete slot;
    return;
  }
  slot->fired = true;
  slot->changed.set_or_log();  // an APC: nothing may escape
}

DWORD notify_mask_except(ServiceRunState state) {
  const DWORD all = SERVICE_NOTIFY_STOPPED | SERVICE_NOTIFY_START_PENDING |
                    SERVICE_NOTIFY_STOP_PENDING | SERVICE_NOTIFY_RUNNING |
                    SERVICE_NOTIFY_CONTINUE_PENDING | SERVICE_NOTIFY_PAUSE_PENDING |
                    SERVICE_NOTIFY_PAUSED | SERVICE_NOTIFY_DELETE_PENDING;
  // SERVICE_NOTIFY_<state> is 1 << (state - 1).
  return all & ~(1u << (scm_state(state) - 1));
}

}  // namespace

std::string_view to_string(StartType type) {
  switch (type) {
    case StartType::automatic:
      return "automatic";
    case StartType::delayed_automatic:
      return "automatic (delayed)";
    case StartType::manual:
      return "manual";
    case StartType::disabled:
      return "disabled";
  }
  return "unknown";
}

std::string command_line(const std::string& program, const std::vector<std::string>& arguments) {
  std::string out = "\"" + program + "\"";
  for (const auto& arg : arguments) {
    out.push_back(' ');
    out += quote_windows_argument(arg);
  }
  return out;
}

// --- ScManager ---------------------------------------------------------------------------------

ScManager ScManager::open(DWORD access) {
  ScHandle handle(OpenSCManagerW(nullptr, nullptr, access));
  if (!handle) throw_last_error("OpenSCManagerW(local)");
  return ScManager(std::move(handle), access | SC_MANAGER_CONNECT);
}

// --- Service -----------------------------------------------------------------------------------

Service Service::open(const ScManager& scm, const std::string& name, DWORD access) {
  ScHandle handle(OpenServiceW(scm.get(), widen(name).c_str(), access));
  if (!handle) throw_last_error("OpenServiceW(" + name + ")");
  return Service(std::move(handle), name, access);
}

std::optional<Service> Service::try_open(const ScManager& scm, const std::string& name,
                                         DWORD access) {
  ScHandle handle(OpenServiceW(scm.get(), widen(name).c_str(), access));
  if (handle) return Service(std::move(handle), name, access);
  if (GetLastError() == ERROR_SERVICE_DOES_NOT_EXIST) return std::nullopt;
  throw_last_error("OpenServiceW(" + name + ")");
}

Service Service::create(const ScManager& scm, const ServiceConfig& config) {
  const std::wstring name = widen(config.name);
  const std::wstring display =
      widen(config.display_name.empty() ? config.name : config.display_name);
  const std::wstring path = widen(command_line(config.binary_path, config.arguments));
  const std::wstring dependencies = multi_sz(config.dependencies);
  const std::wstring account = widen(config.account);
  const std::wstring password = widen(config.password);
  scm.rights().require(SC_MANAGER_CREATE_SERVICE, "CreateServiceW(" + config.name + ")");
  ScHandle handle(CreateServiceW(
      scm.get(), name.c_str(), display.c_str(), SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS,
      start_type_value(config.start_type), SERVICE_ERROR_NORMAL, path.c_str(), nullptr, nullptr,
      config.dependencies.empty() ? nullptr : dependencies.c_str(),
      account.empty() ? nullptr : account.c_str(), password.empty() ? nullptr : password.c_str()));
  if (!handle) throw_last_error("CreateServiceW(" + config.name + ")");
  Service service(std::move(handle), config.name, SERVICE_ALL_ACCESS);
  try {
    if (!config.description.empty()) service.set_description(config.description);
    if (config.start_type == StartType::delayed_automatic) service.set_delayed_auto_start(true);
  } catch (...) {
    if (!DeleteService(service.get())) {
      TLOG(warning) << "DeleteService(" << config.name
                    << ") after a failed create failed: " << error_text(GetLastError());
    }
    throw;
  }
  TLOG(info) << "service " << config.name << " created: " << narrow(path);
  return service;
}

void Service::start(const std::vector<std::string>& arguments) {
  std::vector<std::wstring> wide;
  require(SERVICE_START, "StartServiceW");
  for (const auto& arg : arguments) wide.push_back(widen(arg));
  std::vector<const wchar_t*> argv;
  for (const auto& arg : wide) argv.push_back(arg.c_str());
  if (!StartServiceW(handle_.get(), static_cast<DWORD>(argv.size()),
                     argv.empty() ? nullptr : argv.data())) {
    throw_last_error(call("StartServiceW"));
  }
}

namespace {

void start_dependencies_of(const ScManager& scm, const Service& service, Clock::time_point deadline,
                           std::vector<std::string>& chain) {
  for (const auto& name : service.query_config().dependencies) {
    if (!name.empty() && name.front() == SC_GROUP_IDENTIFIER) continue;  // groups: the SCM's job
    if (std::any_of(chain.begin(), chain.end(),
                    [&](const auto& c) { return same_name(c, name); })) {
      std::string path;
      for (const auto& c : chain) path += c + " -> ";
      throw Error("service dependency cycle: " + path + name);
    }
    Service dependency =
        Service::open(scm, name, SERVICE_QUERY_STATUS | SERVICE_QUERY_CONFIG | SERVICE_START);
    chain.push_back(name);
    start_dependencies_of(scm, dependency, deadline, chain);
    chain.pop_back();
    if (dependency.query().state == ServiceRunState::stopped) {
      try {
        dependency.start();
      } catch (const Win32Error& e) {
        if (e.code() != ERROR_SERVICE_ALREADY_RUNNING) throw;
      }
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    dependency.wait_for_state(ServiceRunState::running,
                              std::max(left, std::chrono::milliseconds(0)));
  }
}

}  // namespace

void Service::start_with_dependencies(const ScManager& scm, std::chrono::milliseconds timeout,
                                      const std::vector<std::string>& arguments) {
  // Checked first, so that no dependency is started for a start that cannot be made.
  require(SERVICE_QUERY_CONFIG | SERVICE_START, "StartServiceW", "with dependencies");
  std::vector<std::string> chain{name_};
  start_dependencies_of(scm, *this, Clock::now() + timeout, chain);
  start(arguments);
}

void Service::stop() {
  require(SERVICE_STOP, "ControlService", "STOP");
  SERVICE_STATUS status{};
  if (!ControlService(handle_.get(), SERVICE_CONTROL_STOP, &status)) {
    throw_last_error(call("ControlService", "STOP"));
  }
}

void Service::pause() {
  require(SERVICE_PAUSE_CONTINUE, "ControlService", "PAUSE");
  SERVICE_STATUS status{};
  if (!ControlService(handle_.get(), SERVICE_CONTROL_PAUSE, &status)) {
    throw_last_error(call("ControlService", "PAUSE"));
  }
}

void Service::resume() {
  require(SERVICE_PAUSE_CONTINUE, "ControlService", "CONTINUE");
  SERVICE_STATUS status{};
  if (!ControlService(handle_.get(), SERVICE_CONTROL_CONTINUE, &status)) {
    throw_last_error(call("ControlService", "CONTINUE"));
  }
}

ServiceStatusInfo Service::query() const {
  require(SERVICE_QUERY_STATUS, "QueryServiceStatusEx");
  SERVICE_STATUS_PROCESS status{};
  DWORD needed = 0;
  if (!QueryServiceStatusEx(handle_.get(), SC_STATUS_PROCESS_INFO, reinterpret_cast<BYTE*>(&status),
                            sizeof(status), &needed)) {
    throw_last_error(call("QueryServiceStatusEx"));
  }
  return from_status(status);
}

InstalledServiceConfig Service::query_config() const {
  require(SERVICE_QUERY_CONFIG, "QueryServiceConfigW");
  SC_HANDLE h = handle_.get();
  InstalledServiceConfig out;

  auto config = query_buffer(
      [h](BYTE* buffer, DWORD size, DWORD* needed) {
        return QueryServiceConfigW(h, reinterpret_cast<QUERY_SERVICE_CONFIGW*>(buffer), size,
                                   needed);
      },
      call("QueryServiceConfigW"));
  const auto* c = reinterpret_cast<const QUERY_SERVICE_CONFIGW*>(config->data());
  out.binary_path_name = text(c->lpBinaryPathName);
  out.display_name = text(c->lpDisplayName);
  out.account = text(c->lpServiceStartName);
  out.dependencies = parse_multi_sz(c->lpDependencies);
  if (out.dependencies.empty()) out.dependencies = registry_dependencies(name_);
  switch (c->dwStartType) {
    case SERVICE_AUTO_START:
    case SERVICE_BOOT_START:
    case SERVICE_SYSTEM_START:
      out.start_type = StartType::automatic;
      break;
    case SERVICE_DISABLED:
      out.start_type = StartType::disabled;
      break;
    default:
      out.start_type = StartType::manual;
  }

  auto config2 = [&](DWORD level, const char* level_name) {
    return query_buffer(
        [h, level](BYTE* buffer, DWORD size, DWORD* needed) {
          return QueryServiceConfig2W(h, level, buffer, size, needed);
        },
        call("QueryServiceConfig2W", level_name), true);
  };
  if (auto d = config2(SERVICE_CONFIG_DESCRIPTION, "DESCRIPTION")) {
    out.description = text(reinterpret_cast<const SERVICE_DESCRIPTIONW*>(d->data())->lpDescription);
  }
  if (out.start_type == StartType::automatic) {
    if (auto d = config2(SERVICE_CONFIG_DELAYED_AUTO_START_INFO, "DELAYED_AUTO_START_INFO")) {
      if (reinterpret_cast<const SERVICE_DELAYED_AUTO_START_INFO*>(d->data())->fDelayedAutostart) {
        out.start_type = StartType::delayed_automatic;
      }
    }
  }
  if (auto f = config2(SERVICE_CONFIG_FAILURE_ACTIONS, "FAILURE_ACTIONS")) {
    const auto* fa = reinterpret_cast<const SERVICE_FAILURE_ACTIONSW*>(f->data());
    FailureActions actions;
    actions.reset_period = fa->dwResetPeriod == INFINITE ? std::chrono::seconds::max()
                                                         : std::chrono::seconds(fa->dwResetPeriod);
    for (DWORD i = 0; i < fa->cActions; ++i) {
      FailureAction a;
      switch (fa->lpsaActions[i].Type) {
        case SC_ACTION_RESTART:
          a.type = FailureAction::Type::restart;
          break;
        case SC_ACTION_REBOOT:
          a.type = FailureAction::Type::reboot;
          break;
        case SC_ACTION_RUN_COMMAND:
          a.type = FailureAction::Type::run_command;
          break;
        default:
          a.type = FailureAction::Type::none;
      }
      a.delay = std::chrono::milliseconds(fa->lpsaActions[i].Delay);
      actions.actions.push_back(a);
    }
    actions.on_non_crash_failures = false;
    if (auto flag = config2(SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, "FAILURE_ACTIONS_FLAG")) {
      actions.on_non_crash_failures =
          reinterpret_cast<const SERVICE_FAILURE_ACTIONS_FLAG*>(flag->data())
              ->fFailureActionsOnNonCrashFailures != FALSE;
    }
    out.failure_actions = actions;
  }
  return out;
}

void Service::set_description(const std::string& description) {
  require(SERVICE_CHANGE_CONFIG, "ChangeServiceConfig2W", "DESCRIPTION");
  std::wstring text = widen(description);
  SERVICE_DESCRIPTIONW info{text.data()};
  if (!ChangeServiceConfig2W(handle_.get(), SERVICE_CONFIG_DESCRIPTION, &info)) {
    throw_last_error(call("ChangeServiceConfig2W", "DESCRIPTION"));
  }
}

void Service::set_failure_actions(const FailureActions& actions) {
  const bool restarts = std::any_of(actions.actions.begin(), actions.actions.end(),
                                    [](auto& a) { return a.type == FailureAction::Type::restart; });
  require(SERVICE_CHANGE_CONFIG | (restarts ? SERVICE_START : 0), "ChangeServiceConfig2W",
          restarts ? "FAILURE_ACTIONS with SC_ACTION_RESTART" : "FAILURE_ACTIONS");
  std::vector<SC_ACTION> list;
  for (const auto& a : actions.actions) {
    SC_ACTION_TYPE type = SC_ACTION_NONE;
    switch (a.type) {
      case FailureAction::Type::restart:
        type = SC_ACTION_RESTART;
        break;
      case FailureAction::Type::reboot:
        type = SC_ACTION_REBOOT;
        break;
      case FailureAction::Type::run_command:
        type = SC_ACTION_RUN_COMMAND;
        break;
      case FailureAction::Type::none:
        break;
    }
    list.push_back(SC_ACTION{type, dword_ms(a.delay)});
  }
  SERVICE_FAILURE_ACTIONSW info{};
  info.dwResetPeriod = actions.reset_period == std::chrono::seconds::max()
                           ? INFINITE
                           : static_cast<DWORD>(actions.reset_period.count());
  info.cActions = static_cast<DWORD>(list.size());
  info.lpsaActions = list.empty() ? nullptr : list.data();
  if (!ChangeServiceConfig2W(handle_.get(), SERVICE_CONFIG_FAILURE_ACTIONS, &info)) {
    throw_last_error(call("ChangeServiceConfig2W", "FAILURE_ACTIONS"));
  }
  SERVICE_FAILURE_ACTIONS_FLAG flag{actions.on_non_crash_failures ? TRUE : FALSE};
  if (!ChangeServiceConfig2W(handle_.get(), SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, &flag)) {
    const DWORD err = GetLastError();
    // Wine 8 knows no such level (and stores no failure actions at all): an installer run there
    // must still succeed, so this one capability gap is logged, not fatal.
    if (err != ERROR_INVALID_LEVEL) {
      throw_error(call("ChangeServiceConfig2W", "FAILURE_ACTIONS_FLAG"), err);
    }
    TLOG(warning) << call("ChangeServiceConfig2W", "FAILURE_ACTIONS_FLAG")
                  << ": not supported by this service manager; recovery then applies to "
                     "crashes only";
  }
}

void Service::change_config(const wchar_t* binary_path, const wchar_t* account,
                            const std::string& what) {
  require(SERVICE_CHANGE_CONFIG, "ChangeServiceConfigW", what.c_str());
  // Dependencies passed as they are: Wine 8 erases them when given NULL ("no change").
  const std::wstring dependencies = multi_sz(query_config().dependencies);
  if (!ChangeServiceConfigW(handle_.get(), SERVICE_NO_CHANGE, SERVICE_NO_CHANGE, SERVICE_NO_CHANGE,
                            binary_path, nullptr, nullptr, dependencies.c_str(), account,
                            account ? L"" : nullptr, nullptr)) {
    throw_last_error(call("ChangeServiceConfigW", what.c_str()));
  }
}

void Service::quote_binary_path() {
  const std::string path = query_config().binary_path_name;
  if (path.empty() || path.front() == '"') return;
  // An unquoted ImagePath is the program alone: the installers pass no arguments.
  const std::wstring quoted = widen(command_line(path, {}));
  change_config(quoted.c_str(), nullptr, "binary path");
  TLOG(info) << name_ << ": binary path quoted: " << narrow(quoted);
}

void Service::set_account(const std::string& account) {
  if (same_name(query_config().account, account)) return;
  change_config(nullptr, widen(account).c_str(), "account " + account);
}

void Service::set_sid_type_unrestricted() {
  require(SERVICE_CHANGE_CONFIG, "ChangeServiceConfig2W", "SERVICE_SID_INFO");
  SERVICE_SID_INFO info{SERVICE_SID_TYPE_UNRESTRICTED};
  if (!ChangeServiceConfig2W(handle_.get(), SERVICE_CONFIG_SERVICE_SID_INFO, &info)) {
    const DWORD err = GetLastError();
    // Wine 8 knows no such level; its services run as LocalSystem anyway (service_sid.h).
    if (err != ERROR_INVALID_LEVEL)
      throw_error(call("ChangeServiceConfig2W", "SERVICE_SID_INFO"), err);
    TLOG(warning) << call("ChangeServiceConfig2W", "SERVICE_SID_INFO")
                  << ": not supported by this service manager; ACEs for the service SID apply "
                     "only under its virtual account";
  }
}

void Service::set_delayed_auto_start(bool delayed) {
  require(SERVICE_CHANGE_CONFIG, "ChangeServiceConfig2W", "DELAYED_AUTO_START_INFO");
  SERVICE_DELAYED_AUTO_START_INFO info{delayed ? TRUE : FALSE};
  if (!ChangeServiceConfig2W(handle_.get(), SERVICE_CONFIG_DELAYED_AUTO_START_INFO, &info)) {
    const DWORD err = GetLastError();
    // Wine 8 knows no such level: the service stays an ordinary automatic one there.
    if (err != ERROR_INVALID_LEVEL) {
      throw_error(call("ChangeServiceConfig2W", "DELAYED_AUTO_START_INFO"), err);
    }
    TLOG(warning) << call("ChangeServiceConfig2W", "DELAYED_AUTO_START_INFO")
                  << ": not supported by this service manager; it starts as automatic";
  }
}

void Service::remove() {
  require(DELETE, "DeleteService");
  if (!DeleteService(handle_.get())) throw_last_error(call("DeleteService"));
}

ServiceStatusInfo Service::wait_for_state(ServiceRunState target,
                                          std::chrono::milliseconds timeout) const {
  const std::string what = "to be " + std::string(to_string(target));
  return wait_until(
      [&](const ServiceStatusInfo& status) {
        if (status.state == target) return true;
        if (status.state == ServiceRunState::stopped) {
          throw Error("waiting for service " + name_ + " " + what + ": it stopped (" +
                      describe_exit(status) + ")");
        }
        return false;
      },
      timeout, what);
}

ServiceStatusInfo Service::wait_until(const std::function<bool(const ServiceStatusInfo&)>& done,
                                      std::chrono::milliseconds timeout,
                                      const std::string& what) const {
  const auto deadline = Clock::now() + timeout;
  auto remaining = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  };
  auto fail = [&](const std::string& why) {
    return Error("waiting for service " + name_ + " " + what + ": " + why);
  };

  // A handle of its own: closing it is the only way to cancel a pending notification.
  const ScManager scm = ScManager::open(SC_MANAGER_CONNECT);
  const Service watched = open(scm, name_, SERVICE_QUERY_STATUS);
  auto slot = std::make_unique<NotifySlot>();
  slot->changed = Event(Event::Reset::automatic, name_ + " status change");
  bool armed = false;
  struct AbandonIfArmed {
    std::unique_ptr<NotifySlot>& slot;
    bool& armed;
    ~AbandonIfArmed() {
      if (armed && !slot->fired) slot.release()->abandoned = true;
    }
  } abandon_if_armed{slot, armed};
  bool notify_supported = true;
  DWORD waited_pid = 0;

  ServiceStatusInfo status = watched.query();
  for (;;) {
    if (done(status)) return status;
    if (remaining().count() <= 0) {
      throw fail("still " + std::string(to_string(status.state)) + " after " +
                 std::to_string(timeout.count()) + " ms");
    }

    if (notify_supported) {
      slot->fired = false;
      slot->notify = SERVICE_NOTIFYW{};
      slot->notify.dwVersion = SERVICE_NOTIFY_STATUS_CHANGE;
      slot->notify.pfnNotifyCallback = on_status_change;
      slot->notify.pContext = slot.get();
      slot->changed.reset();
      // Every state but the current one: the APC comes as soon as the state differs, even if it
      // changed between the query above and this call.
      watched.require(SERVICE_QUERY_STATUS, "NotifyServiceStatusChangeW");
      const DWORD rc = NotifyServiceStatusChangeW(watched.get(), notify_mask_except(status.state),
                                                  &slot->notify);
      if (rc == ERROR_SUCCESS) {
        armed = true;
        while (!slot->fired) {
          const auto left = remaining();
          if (left.count() <= 0) break;
          const DWORD w = WaitForSingleObjectEx(
              slot->changed.waitable(call("WaitForSingleObjectEx")), wait_ms(left), TRUE);
          if (w == WAIT_FAILED) throw_last_error(call("WaitForSingleObjectEx"));
        }
        if (!slot->fired) {
          status = watched.query();  // the deadline check reports it, with the latest state
          continue;
        }
        armed = false;
        if (slot->notify.dwNotificationStatus != ERROR_SUCCESS) {
          throw_error(call("NotifyServiceStatusChangeW"), slot->notify.dwNotificationStatus);
        }
        if (slot->notify.dwNotificationTriggered & SERVICE_NOTIFY_DELETE_PENDING) {
          throw fail("it was marked for deletion");
        }
        status = from_status(slot->notify.ServiceStatus);
        continue;
      }
      if (rc != ERROR_CALL_NOT_IMPLEMENTED && rc != ERROR_NOT_SUPPORTED) {
        throw_error(call("NotifyServiceStatusChangeW"), rc);
      }
      TLOG(warning) << call("NotifyServiceStatusChangeW") << " is not supported here ("
                    << error_text(rc) << "); waiting on the service's process instead";
      notify_supported = false;
    }

    // Without notifications the one change there is to wait on is the end of the process.
    if (status.pid == 0 || status.pid == waited_pid) {
      throw fail("this service manager cannot notify state changes, and it is " +
                 std::string(to_string(status.state)) + " with no process to wait on");
    }
    DWORD error = ERROR_SUCCESS;
    const Process process = Process::open(status.pid, SYNCHRONIZE,
                                          name_ + " process " + std::to_string(status.pid), error);
    waited_pid = status.pid;
    // One it may not open (or that has ended) is queried again at once.
    if (process) process.wait(wait_ms(remaining()));
    status = watched.query();
  }
}

// --- ServiceStateWatch -------------------------------------------------------------------------

std::optional<ServiceStateWatch> ServiceStateWatch::arm(const ScManager& scm,
                                                        const std::string& name) {
  auto service = Service::try_open(scm, name, SERVICE_QUERY_STATUS);
  if (!service) return std::nullopt;
  const ServiceStatusInfo status = service->query();
  auto slot = std::make_unique<NotifySlot>();
  slot->changed = Event(Event::Reset::manual, name + " state watch");
  slot->notify.dwVersion = SERVICE_NOTIFY_STATUS_CHANGE;
  slot->notify.pfnNotifyCallback = on_status_change;
  slot->notify.pContext = slot.get();
  service->rights().require(SERVICE_QUERY_STATUS, "NotifyServiceStatusChangeW(" + name + ")");
  const DWORD rc =
      NotifyServiceStatusChangeW(service->get(), notify_mask_except(status.state), &slot->notify);
  if (rc == ERROR_CALL_NOT_IMPLEMENTED || rc == ERROR_NOT_SUPPORTED) {
    TLOG(warning) << "NotifyServiceStatusChangeW(" << name << ") is not supported here";
    return std::nullopt;
  }
  if (rc != ERROR_SUCCESS) throw_error("NotifyServiceStatusChangeW(" + name + ")", rc);
  return ServiceStateWatch(std::move(*service), slot.release());
}

ServiceStateWatch::ServiceStateWatch(ServiceStateWatch&& other) noexcept
    : service_(std::move(other.service_)), slot_(std::exchange(other.slot_, nullptr)) {}

ServiceStateWatch::~ServiceStateWatch() {
  if (!slot_) return;
  service_.reset();  // closing the handle cancels the notification
  SleepEx(0, TRUE);  // runs an APC queued before that, on this (the arming) thread
  if (slot_->fired) {
    delete slot_;
  } else {
    slot_->abandoned = true;  // a late APC frees it
  }
}

HANDLE ServiceStateWatch::event() const {
  return slot_->changed.waitable("a wait on a service state watch");
}

}  // namespace tandem::win32
