#include "common/win32/scm_runner.h"

#include <windows.h>

#include <atomic>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>

#include "common/console_runner.h"
#include "common/error.h"
#include "common/log.h"
#include "common/win32/error.h"
#include "common/win32/event.h"
#include "common/win32/handle.h"
#include "common/win32/strings.h"
#include "common/win32/thread.h"
#include "common/win32/wait_ms.h"

namespace tandem::win32 {
namespace {

// PAUSE_PENDING's hint: one item in flight (a teacher call) normally ends well within it; the SCM
// does not act on it, a caller waiting for PAUSED may.
constexpr std::chrono::milliseconds kPauseHint{30'000};

const char* state_text(DWORD state) {
  switch (state) {
    case SERVICE_START_PENDING:
      return "START_PENDING";
    case SERVICE_RUNNING:
      return "RUNNING";
    case SERVICE_STOP_PENDING:
      return "STOP_PENDING";
    case SERVICE_STOPPED:
      return "STOPPED";
    case SERVICE_PAUSE_PENDING:
      return "PAUSE_PENDING";
    case SERVICE_PAUSED:
      return "PAUSED";
    default:
      return "?";
  }
}

const char* control_text(DWORD control) {
  switch (control) {
    case SERVICE_CONTROL_STOP:
      return "STOP";
    case SERVICE_CONTROL_PRESHUTDOWN:
      return "PRESHUTDOWN";
    case SERVICE_CONTROL_SHUTDOWN:
      return "SHUTDOWN";
    default:
      return "control";
  }
}

// The service's SERVICE_STATUS as the SCM sees it. The body's thread and the control handler's
// thread both report, so every change happens under one lock, and a service that is stopping never
// goes back to START_PENDING or RUNNING: those calls then only advance the stop's checkpoint.
class ScmStatus final : public ServiceStatus {
 public:
  ScmStatus(std::string name, bool pausable) : name_(std::move(name)), pausable_(pausable) {
    status_.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    status_.dwCurrentState = SERVICE_START_PENDING;
  }

  // The handle from RegisterServiceCtrlHandlerExW needs no closing (the SCM owns it).
  void attach(SERVICE_STATUS_HANDLE handle) { handle_ = handle; }

  void starting(std::chrono::milliseconds wait_hint) override {
    std::lock_guard lock(mutex_);
    pending(stopping_locked() ? SERVICE_STOP_PENDING : SERVICE_START_PENDING, wait_hint);
  }
  void running() override {
    std::lock_guard lock(mutex_);
    if (stopping_locked()) return pending(SERVICE_STOP_PENDING, {});
    settle(SERVICE_RUNNING);
  }
  void stopping(std::chrono::milliseconds wait_hint) override {
    std::lock_guard lock(mutex_);
    pending(SERVICE_STOP_PENDING, wait_hint);
  }
  // Whether Pause is offered now (the body may refuse it for a while: PauseHooks).
  void set_pausable(bool pausable) {
    std::lock_guard lock(mutex_);
    if (pausable_now_ == pausable) return;
    pausable_now_ = pausable;
    if (status_.dwCurrentState == SERVICE_RUNNING) report();
  }
  // RUNNING -> PAUSE_PENDING; false in any other state (nothing to pause).
  bool pausing(std::chrono::milliseconds wait_hint) {
    std::lock_guard lock(mutex_);
    if (status_.dwCurrentState != SERVICE_RUNNING) return false;
    pending(SERVICE_PAUSE_PENDING, wait_hint);
    return true;
  }
  // The body holds: PAUSE_PENDING -> PAUSED (a Continue or a stop in between wins).
  void paused() {
    std::lock_guard lock(mutex_);
    if (status_.dwCurrentState == SERVICE_PAUSE_PENDING) settle(SERVICE_PAUSED);
  }
  void resumed() {
    std::lock_guard lock(mutex_);
    if (status_.dwCurrentState == SERVICE_PAUSED || status_.dwCurrentState == SERVICE_PAUSE_PENDING)
      settle(SERVICE_RUNNING);
  }
  // The last report: once the SCM has STOPPED, the process may end at any moment, so nothing
  // (not even a log line) follows it.
  void stopped(int exit_code) {
    std::lock_guard lock(mutex_);
    status_.dwWin32ExitCode = exit_code == 0 ? NO_ERROR : ERROR_SERVICE_SPECIFIC_ERROR;
    status_.dwServiceSpecificExitCode = static_cast<DWORD>(exit_code);
    settle(SERVICE_STOPPED);
  }

 private:
  bool stopping_locked() const {
    return status_.dwCurrentState == SERVICE_STOP_PENDING ||
           status_.dwCurrentState == SERVICE_STOPPED;
  }
  // A pending state with a rising checkpoint; a zero hint keeps the previous one.
  void pending(DWORD state, std::chrono::milliseconds wait_hint) {
    if (status_.dwCurrentState == SERVICE_STOPPED) return;
    if (status_.dwCurrentState != state) status_.dwCheckPoint = 0;
    status_.dwCurrentState = state;
    ++status_.dwCheckPoint;
    if (wait_hint.count() > 0) status_.dwWaitHint = dword_ms(wait_hint);
    report();
  }
  void settle(DWORD state) {
    status_.dwCurrentState = state;
    status_.dwCheckPoint = 0;
    status_.dwWaitHint = 0;
    report();
  }
  void report() {
    // Controls only in settled states, as the SCM expects; PRESHUTDOWN rather than SHUTDOWN
    // because it comes early enough for an orderly stop.
    const DWORD state = status_.dwCurrentState;
    status_.dwControlsAccepted = 0;
    // PAUSE_PENDING too: the item in flight may take a while, and a stop or Continue must not
    // wait for it.
    if (state == SERVICE_RUNNING || state == SERVICE_PAUSED || state == SERVICE_PAUSE_PENDING) {
      status_.dwControlsAccepted = SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_PRESHUTDOWN;
      // While the body refuses pauses the SCM refuses them itself (ERROR_INVALID_SERVICE_CONTROL)
      // and the console greys Pause out; Continue stays possible once paused.
      if (pausable_ && (pausable_now_ || state != SERVICE_RUNNING)) {
        status_.dwControlsAccepted |= SERVICE_ACCEPT_PAUSE_CONTINUE;
      }
    }
    if (!handle_) return;
    TLOG(debug) << name_ << ": " << state_text(state) << " checkpoint " << status_.dwCheckPoint
                << " wait hint " << status_.dwWaitHint << " ms";
    if (!SetServiceStatus(handle_, &status_) && state != SERVICE_STOPPED) {
      // Nothing sensible to throw to from the control handler's thread; the log says why.
      TLOG(warning) << "SetServiceStatus(" << name_ << ", " << state_text(state)
                    << ") failed: " << error_text(GetLastError());
    }
  }

  const std::string name_;
  const bool pausable_;
  bool pausable_now_ = true;
  std::mutex mutex_;
  SERVICE_STATUS_HANDLE handle_ = nullptr;
  SERVICE_STATUS status_{};
};

// One service run. ServiceMain gets no context pointer, so it finds this through g_host; the
// control handler gets it as its context. It lives in run_service's frame. The handler runs on
// the dispatcher's thread, so it is done when StartServiceCtrlDispatcherW returns; ServiceMain
// may still be returning then (the dispatcher returns once STOPPED is reported), so run_service
// waits for `main_done` before this goes away.
struct Host {
  std::wstring name;
  std::string name_utf8;
  const ServiceBody& body;
  const ServiceOptions& options;
  StopSignal stop;
  ScmStatus status;
  Event main_done;
  int exit_code = 1;
};

Host* g_host = nullptr;
std::mutex g_active_mutex;
bool g_active = false;

class ActiveRun {
 public:
  explicit ActiveRun(const std::string& name) {
    std::lock_guard lock(g_active_mutex);
    if (g_active) throw Error("run_service(" + name + "): another service run is active");
    g_active = true;
  }
  ActiveRun(const ActiveRun&) = delete;
  ActiveRun& operator=(const ActiveRun&) = delete;
  ~ActiveRun() {
    std::lock_guard lock(g_active_mutex);
    g_active = false;
  }
};

DWORD WINAPI control_handler(DWORD control, DWORD, LPVOID, LPVOID context) {
  auto& host = *static_cast<Host*>(context);
  try {
    switch (control) {
      case SERVICE_CONTROL_STOP:
      case SERVICE_CONTROL_PRESHUTDOWN:
      case SERVICE_CONTROL_SHUTDOWN:
        TLOG(info) << host.name_utf8 << ": " << control_text(control) << " received; stopping";
        host.status.stopping(host.options.stop_hint);
        host.stop.request();
        return NO_ERROR;
      case SERVICE_CONTROL_PAUSE:
        if (!host.options.pause) return ERROR_CALL_NOT_IMPLEMENTED;
        if (!host.status.pausing(kPauseHint)) return NO_ERROR;  // already pausing or paused
        if (const std::string refused = host.options.pause.pause([&host] { host.status.paused(); });
            !refused.empty()) {
          TLOG(warning) << host.name_utf8 << ": Pause refused: " << refused;
          host.status.resumed();
          return ERROR_SERVICE_CANNOT_ACCEPT_CTRL;
        }
        TLOG(info) << host.name_utf8 << ": Pause received; pausing once the work in flight is done";
        return NO_ERROR;
      case SERVICE_CONTROL_CONTINUE:
        if (!host.options.pause) return ERROR_CALL_NOT_IMPLEMENTED;
        host.options.pause.resume();
        host.status.resumed();
        return NO_ERROR;
      case SERVICE_CONTROL_INTERROGATE:
        return NO_ERROR;
      default:
        return ERROR_CALL_NOT_IMPLEMENTED;
    }
  } catch (const std::exception& e) {
    TLOG(error) << host.name_utf8 << ": control " << control << " failed: " << e.what();
  }
  return ERROR_EXCEPTION_IN_SERVICE;
}

void run_main(Host& host, DWORD argc, LPWSTR* argv) {
  SERVICE_STATUS_HANDLE handle =
      RegisterServiceCtrlHandlerExW(host.name.c_str(), control_handler, &host);
  if (!handle) {
    TLOG(error) << Win32Error("RegisterServiceCtrlHandlerExW(" + host.name_utf8 + ")",
                              GetLastError())
                       .what();
    return;
  }
  host.status.attach(handle);
  host.status.starting(host.options.initial_start_hint);
  const auto& watch_pausable = host.options.pause.watch_pausable;
  if (watch_pausable)
    watch_pausable([&host](bool pausable) { host.status.set_pausable(pausable); });

  std::vector<std::string> arguments;
  for (DWORD i = 1; i < argc; ++i) arguments.push_back(narrow(argv[i]));
  const ServiceBody with_arguments = [&](ServiceStatus& status, StopSignal& stop) {
    if (host.options.on_start_arguments) host.options.on_start_arguments(arguments);
    return host.body(status, stop);
  };
  host.exit_code = run_body(with_arguments, host.status, host.stop, host.name_utf8);
  if (watch_pausable) watch_pausable(nullptr);  // the body is done; host goes soon
  TLOG(info) << host.name_utf8 << ": stopped with exit code " << host.exit_code;
}

void WINAPI service_main(DWORD argc, LPWSTR* argv) {
  Host& host = *g_host;
  run_main(host, argc, argv);
  host.status.stopped(host.exit_code);
  host.main_done.set_or_log();
}

// --- console runs ----------------------------------------------------------------------------

// Shared with the console control handler, which Windows runs on a thread of its own that may
// still be inside the handler when the run ends: hence shared ownership.
struct ConsoleRun {
  explicit ConsoleRun(std::string run_name) : name(std::move(run_name)) {}
  std::string name;
  StopSignal stop;
  Event body_done = Event(Event::Reset::manual, name + " console run");
  std::atomic<bool> finished{false};
};

std::mutex g_console_mutex;
std::shared_ptr<ConsoleRun> g_console;

std::shared_ptr<ConsoleRun> current_console_run() {
  std::lock_guard lock(g_console_mutex);
  return g_console;
}

BOOL WINAPI console_handler(DWORD type) {
  std::shared_ptr<ConsoleRun> run = current_console_run();
  if (!run) return FALSE;
  switch (type) {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT:
      TLOG(info) << run->name << ": " << (type == CTRL_C_EVENT ? "Ctrl+C" : "Ctrl+Break")
                 << "; stopping";
      run->stop.request();
      return TRUE;
    case CTRL_CLOSE_EVENT:
    case CTRL_LOGOFF_EVENT:
    case CTRL_SHUTDOWN_EVENT:
      TLOG(info) << run->name << ": console closing; stopping";
      run->stop.request();
      // Windows ends the process as soon as this returns (and after ~5 s regardless): give the
      // body its orderly stop within that bound.
      WaitForSingleObject(run->body_done.waitable("WaitForSingleObject(console run)"), 4500);
      return TRUE;
    default:
      return FALSE;
  }
}

class ConsoleHandlerScope {
 public:
  explicit ConsoleHandlerScope(std::shared_ptr<ConsoleRun> run) {
    {
      std::lock_guard lock(g_console_mutex);
      g_console = std::move(run);
    }
    if (!SetConsoleCtrlHandler(console_handler, TRUE)) {
      const DWORD err = GetLastError();
      clear();
      throw_error("SetConsoleCtrlHandler(add)", err);
    }
  }
  ConsoleHandlerScope(const ConsoleHandlerScope&) = delete;
  ConsoleHandlerScope& operator=(const ConsoleHandlerScope&) = delete;
  ~ConsoleHandlerScope() {
    SetConsoleCtrlHandler(console_handler, FALSE);
    clear();
  }

 private:
  static void clear() {
    std::lock_guard lock(g_console_mutex);
    g_console.reset();
  }
};

// When a supervisor (a script, a test) runs us with a pipe for stdin, the end of that pipe is a
// stop request too: a console control event needs a shared console, which a headless Wine cannot
// create, while closing a pipe works everywhere. A real console (a character device) is left to
// Ctrl+C. The reading thread owns a reference to the run, so it may outlive run_console safely.
class StdinEofWatch {
 public:
  explicit StdinEofWatch(const std::shared_ptr<ConsoleRun>& run) {
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
    if (in == nullptr || in == INVALID_HANDLE_VALUE || GetFileType(in) != FILE_TYPE_PIPE) return;
    auto context = std::make_unique<std::shared_ptr<ConsoleRun>>(run);
    thread_ = Thread::start(&watch, context.get(), run->name + " stdin watch");
    context.release();  // the thread owns it now
  }
  StdinEofWatch(const StdinEofWatch&) = delete;
  StdinEofWatch& operator=(const StdinEofWatch&) = delete;
  ~StdinEofWatch() {
    if (!thread_) return;
    // The body is done: end the blocked ReadFile (ERROR_OPERATION_ABORTED). Nothing to cancel
    // (ERROR_NOT_FOUND) is the watch between two reads or already ended.
    try {
      thread_.cancel_synchronous_io();
      if (!thread_.wait(1000)) {
        TLOG(debug) << "stdin watch did not end within 1 s; it ends with the process";
      }
    } catch (const std::exception& e) {
      TLOG(warning) << e.what() << "; the stdin watch ends with the process";
    }
  }

 private:
  static DWORD WINAPI watch(void* parameter) {
    std::unique_ptr<std::shared_ptr<ConsoleRun>> context(
        static_cast<std::shared_ptr<ConsoleRun>*>(parameter));
    ConsoleRun& run = **context;
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
    char buffer[256];
    DWORD n = 0;
    while (ReadFile(in, buffer, sizeof(buffer), &n, nullptr) && n > 0) {
    }
    if (!run.finished.load()) {
      TLOG(info) << run.name << ": stdin closed; stopping";
      run.stop.request();
    }
    return 0;
  }

  Thread thread_;
};

int run_console(const std::string& name, const ServiceBody& body) {
  auto run = std::make_shared<ConsoleRun>(name);
  ConsoleHandlerScope scope(run);
  StdinEofWatch stdin_watch(run);
  TLOG(info) << name << ": running in the console; Ctrl+C or Ctrl+Break stops it";
  LoggingStatus status(name);
  const int code = run_body(body, status, run->stop, name);
  run->finished.store(true);
  run->body_done.set();
  TLOG(info) << name << ": exited with code " << code;
  return code;
}

}  // namespace

bool console_requested(int argc, const wchar_t* const* argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::wstring_view(argv[i]) == L"--console") return true;
  }
  return false;
}

int run_service(const std::wstring& name, const ServiceBody& body, ServiceOptions options) {
  const std::string name_utf8 = narrow(name);
  ActiveRun active(name_utf8);
  if (options.console) return run_console(name_utf8, body);

  Host host{name,
            name_utf8,
            body,
            options,
            {},
            ScmStatus(name_utf8, bool(options.pause)),
            Event(Event::Reset::manual, name_utf8 + " service main done")};
  g_host = &host;
  struct ClearHost {
    ~ClearHost() { g_host = nullptr; }
  } clear_host;

  SERVICE_TABLE_ENTRYW table[] = {{host.name.data(), service_main}, {nullptr, nullptr}};
  if (!StartServiceCtrlDispatcherW(table)) {
    const DWORD err = GetLastError();
    if (err == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
      // A person ran the exe by hand: a usage hint on stderr, not a log record.
      std::cerr << name_utf8
                << " is a Windows service: start it with the service manager, or run it in "
                   "this console with --console\n";
      return 1;
    }
    throw_error("StartServiceCtrlDispatcherW(" + name_utf8 + ")", err);
  }
  // ServiceMain reported STOPPED and is returning; it touches `host` until it sets main_done.
  if (WaitForSingleObject(host.main_done.waitable("WaitForSingleObject(service main done)"),
                          10000) != WAIT_OBJECT_0) {
    TLOG(warning) << name_utf8 << ": ServiceMain did not return within 10 s of the dispatcher";
  }
  return host.exit_code;
}

}  // namespace tandem::win32
