// Controlling an installed service from outside (tandemctl's status, start, stop, restart): the
// Windows SCM (win32/scm_controller.h) and systemd through systemctl (posix/systemd_controller.h)
// behind one interface, so the commands over it are portable and tested with fakes. What runs
// inside a service is service_body.h.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"

namespace tandem {

// The SCM's states; systemd's map onto them (activating is start_pending, and so on).
enum class ServiceRunState {
  stopped,
  start_pending,
  stop_pending,
  running,
  continue_pending,
  pause_pending,
  paused
};
// "stopped", "start pending", ...: the words tandemctl prints.
std::string_view to_string(ServiceRunState state);

struct ServiceInfo {
  ServiceRunState state = ServiceRunState::stopped;
  std::uint32_t pid = 0;
  std::uint32_t exit_code = 0;  // once stopped: the last run's exit code when it failed, else 0
};

// One installed service. Failures of the calls themselves are SystemError.
class ServiceController {
 public:
  virtual ~ServiceController() = default;
  virtual const std::string& name() const = 0;
  virtual ServiceInfo query() = 0;
  // Asks for a start, after starting what it depends on (each waited for within `timeout`); it
  // need not wait for this one to run: wait_for_state does. Nothing happens if it already runs.
  virtual void start(std::chrono::milliseconds timeout) = 0;
  // Asks for a stop; nothing happens if it is not running.
  virtual void stop() = 0;
  // Continues a paused service.
  virtual void resume() = 0;
  // Waits on real state changes until it is in `target`, and returns its status then. Error (not
  // SystemError) naming the service when `timeout` runs out, or when it stops while another
  // state is awaited (with its exit code).
  virtual ServiceInfo wait_for_state(ServiceRunState target, std::chrono::milliseconds timeout) = 0;
};

class ServiceManager {
 public:
  enum class Access { query, control };
  virtual ~ServiceManager() = default;
  // nullptr when no such service is installed. Asking for `control` only when it will be used
  // lets anyone read the state (on Windows, opening for control needs an elevated prompt).
  // The controller must not outlive the manager.
  virtual std::unique_ptr<ServiceController> open(const std::string& name, Access access) = 0;
};

// No service manager to ask on this machine (Linux without systemd running): the services'
// states are unknown, which `status` shows instead of failing.
class ServiceManagerUnavailable : public Error {
 public:
  using Error::Error;
};

}  // namespace tandem
