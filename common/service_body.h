// The inside of a service: what its body reports to, and hears from, whoever runs it (the Windows
// SCM through win32/scm_runner.h, systemd or a console through console_runner.h). Portable: the
// body never sees the platform. Controlling an installed service from outside is
// service_controller.h.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>

namespace tandem {

// Reporting progress. Under the SCM: START_PENDING with a rising checkpoint on each starting()
// call and `wait_hint` as the honest bound for the next step; RUNNING; STOP_PENDING. Under
// systemd: READY=1, EXTEND_TIMEOUT_USEC, STOPPING=1 (posix/systemd_notify.h).
class ServiceStatus {
 public:
  virtual ~ServiceStatus() = default;
  virtual void starting(std::chrono::milliseconds wait_hint) = 0;
  virtual void running() = 0;
  virtual void stopping(std::chrono::milliseconds wait_hint) = 0;
};

// Set once when a stop is asked for (SCM STOP/PRESHUTDOWN/SHUTDOWN, Ctrl+C, SIGTERM).
class StopSignal {
 public:
  void request() {
    {
      std::lock_guard lock(mutex_);
      requested_ = true;
    }
    changed_.notify_all();
    source_.request_stop();
  }
  // For code that waits with std::stop_token (condition_variable_any, stop_callback).
  std::stop_token token() const { return source_.get_token(); }
  bool requested() const {
    std::lock_guard lock(mutex_);
    return requested_;
  }
  // True if a stop was asked for within `timeout`.
  template <typename Rep, typename Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [this] { return requested_; });
  }
  void wait() const {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return requested_; });
  }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool requested_ = false;
  std::stop_source source_;
};

// A service's body: returns the process/service exit code (0 = clean stop). Exceptions escaping
// it are logged and turned into a non-zero service-specific exit code so recovery applies.
using ServiceBody = std::function<int(ServiceStatus& status, StopSignal& stop)>;

// The exit code a runner reports when the body throws (sysexits' EX_SOFTWARE).
inline constexpr int kExitBodyThrew = 70;

// Optional hooks for a body that can pause (the trainer between items). When both are set the SCM
// offers Pause/Continue. They run on the runner's control thread, so they must return quickly:
// set a flag the body watches, never do the work there. `pause` returns "" when the body will
// hold, and then calls `held` (from any thread) once the work in flight is done: only then is the
// service reported PAUSED (PAUSE_PENDING until). Otherwise it returns why it cannot pause now,
// and the Pause is refused with that reason.
// Optional too: `watch_pausable` is given a callback that the body calls with false while it
// cannot pause (and true after), so the SCM stops offering Pause meanwhile; nullptr ends it.
struct PauseHooks {
  std::function<std::string(std::function<void()> held)> pause;
  std::function<void()> resume;
  std::function<void(std::function<void(bool pausable)>)> watch_pausable;
  explicit operator bool() const { return pause && resume; }
};

}  // namespace tandem
