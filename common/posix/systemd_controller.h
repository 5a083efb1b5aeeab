// ServiceController over systemd: the units tandem-llm.service and tandem-trainer.service, through
// `systemctl` run by the process launcher. systemctl's start and stop block until systemd's job
// for the unit is done (a Type=notify unit is started once it sent READY=1), and a second
// start or stop joins a job already running, so waiting is systemd's own, never a poll.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/process/process_launcher.h"
#include "common/service_controller.h"

namespace tandem::posix {

// What `systemctl show --property=LoadState,ActiveState,SubState,MainPID,ExecMainStatus` says.
struct UnitState {
  bool installed = false;  // LoadState is not "not-found"
  ServiceInfo info;
};
// activating is start_pending (but activating/auto-restart, a failed run awaiting its
// Restart=, is stopped), deactivating stop_pending, active and reloading running, the rest
// stopped; MainPID while not stopped; ExecMainStatus when a stopped run failed.
UnitState parse_unit_state(const std::vector<std::string>& show_lines);

class SystemdServiceManager final : public ServiceManager {
 public:
  // ServiceManagerUnavailable when systemd is not running here (no `booted_marker`, the test
  // sd_booted() makes). `systemctl` is the program run through `launcher`.
  explicit SystemdServiceManager(std::unique_ptr<ProcessLauncher> launcher,
                                 const std::filesystem::path& booted_marker = "/run/systemd/system",
                                 std::string systemctl = "systemctl");
  // `name` is the unit without ".service".
  std::unique_ptr<ServiceController> open(const std::string& name, Access access) override;

  struct Result {
    int exit_code = 0;
    bool timed_out = false;
    std::vector<std::string> output;  // stdout and stderr lines, in order
  };
  // systemctl with `arguments`, ended when it runs longer than `timeout`.
  Result systemctl(const std::vector<std::string>& arguments, std::chrono::milliseconds timeout);

 private:
  std::unique_ptr<ProcessLauncher> launcher_;
  std::string systemctl_;
};

}  // namespace tandem::posix
