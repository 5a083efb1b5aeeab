// The Windows resolver: registry publication, checked against the SCM's PID for TandemLlm, the
// pipe's server PID and instance, and GET /health's X-Tandem-Instance.
#pragma once

#include "common/discovery/resolver.h"

namespace tandem::win32 {

class LlmResolver final : public discovery::Resolver {
 public:
  std::optional<discovery::Endpoint> resolve(std::string& why) override;
  discovery::Endpoint wait_ready(std::chrono::milliseconds timeout, std::stop_token stop) override;
};

}  // namespace tandem::win32
