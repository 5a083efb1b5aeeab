// The Windows resolver: registry publication, checked against the SCM's PID for TandemLlm, the
// liveness of that process, the pipe's server PID and instance, and GET /health's
// X-Tandem-Instance.
#pragma once

#include <windows.h>

#include <optional>

#include "common/discovery/resolver.h"
#include "common/win32/handle.h"
#include "common/win32/process.h"
#include "common/win32/scm.h"

namespace tandem::win32 {

// For one caller at a time (the trainer's job thread; ctl and tray make one per look). It keeps
// the SCM and TandemLlm's service handles open between resolves (opening them costs ~5 ms under
// Wine) and the published server's process, so that a PID cannot be reused behind its back and
// wait_ready() wakes when that process ends.
class LlmResolver final : public discovery::Resolver {
 public:
  std::optional<discovery::Endpoint> resolve(std::string& why) override;
  discovery::Endpoint wait_ready(std::chrono::milliseconds timeout, std::stop_token stop) override;

 private:
  std::optional<std::string> check_scm(const discovery::Endpoint& published);
  std::optional<std::string> check_process(const discovery::Endpoint& published);
  // The service's status through the kept handles, reopened once when a kept one fails;
  // std::nullopt when TandemLlm is not installed.
  std::optional<ServiceStatusInfo> query_service();

  std::optional<ScManager> scm_;
  std::optional<Service> service_;
  Process process_;  // the published server's process, while it is the one published
  DWORD process_pid_ = 0;
};

}  // namespace tandem::win32
