// What every runner of a ServiceBody shares (run_body, log-line status), and the POSIX runner:
// the body in the foreground, stopped by SIGINT/SIGTERM, as systemd runs it. The Windows runner
// (the SCM, or --console) is win32/scm_runner.h. Portable: no platform headers here.
#pragma once

#include <chrono>
#include <string>

#include "common/service_body.h"

namespace tandem {

// What a foreground run reports instead of SCM states: log lines.
class LoggingStatus final : public ServiceStatus {
 public:
  explicit LoggingStatus(std::string name) : name_(std::move(name)) {}
  void starting(std::chrono::milliseconds wait_hint) override;
  void running() override;
  void stopping(std::chrono::milliseconds wait_hint) override;

 private:
  std::string name_;
};

// Runs `body`; an exception escaping it is logged with its text and becomes kExitBodyThrew, so
// every runner turns a failure into a non-zero exit code the same way.
int run_body(const ServiceBody& body, ServiceStatus& status, StopSignal& stop,
             const std::string& name);

#ifndef _WIN32
// Foreground run on POSIX: SIGINT and SIGTERM request a stop (through a self-pipe, so the signal
// handler does nothing but write one byte); the previous handlers are restored on return.
// One console run per process at a time: a second concurrent call throws tandem::Error.
// `status` (e.g. systemd's notify protocol) replaces the default LoggingStatus when given.
int run_in_console(const ServiceBody& body, const std::string& name = "service",
                   ServiceStatus* status = nullptr);
#endif

}  // namespace tandem
