// systemd's readiness protocol without libsystemd: datagrams of "KEY=value" lines to the
// AF_UNIX socket named by $NOTIFY_SOCKET (a path, or an abstract name written "@name"), and the
// ServiceStatus that a Type=notify unit reports through it.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/service_body.h"

namespace tandem::posix {

// Sends `state` ("READY=1\nSTATUS=…") to `socket`. Throws tandem::Error naming the socket.
void notify_socket(const std::string& socket, std::string_view state);
// To $NOTIFY_SOCKET when it is set (true once sent); false when it is not (not under systemd).
// A failed send is logged, never fatal: the service runs on, systemd then reports the timeout.
bool sd_notify(std::string_view state);

// starting → STATUS + EXTEND_TIMEOUT_USEC (systemd's twin of the SCM's wait hint), running →
// READY=1, stopping → STOPPING=1; each also logged, as LoggingStatus does.
class SystemdStatus final : public ServiceStatus {
 public:
  explicit SystemdStatus(std::string name) : name_(std::move(name)) {}
  void starting(std::chrono::milliseconds wait_hint) override;
  void running() override;
  void stopping(std::chrono::milliseconds wait_hint) override;

 private:
  std::string name_;
};

}  // namespace tandem::posix
