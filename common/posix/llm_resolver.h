// The Linux resolver (docs/architecture.md#resolving-the-server): <runtime>/llm-server.json,
// trusted only if it says `ready`, its PID is alive, the process serving <runtime>/llm.sock
// (SO_PEERCRED) is that PID and answers `resolve` with the same instance and port, and GET
// /health's X-Tandem-Instance is that instance too. A file left by a killed server therefore
// never yields an endpoint.
#pragma once

#include <filesystem>

#include "common/discovery/resolver.h"

namespace tandem::posix {

class LlmResolver final : public discovery::Resolver {
 public:
  // `runtime_dir` defaults to posix::runtime_dir().
  explicit LlmResolver(std::filesystem::path runtime_dir = {});

  std::optional<discovery::Endpoint> resolve(std::string& why) override;
  // Blocks on the socket's `wait` and on inotify in the runtime folder; never polls.
  discovery::Endpoint wait_ready(std::chrono::milliseconds timeout, std::stop_token stop) override;

 private:
  std::filesystem::path runtime_dir_;
  std::filesystem::path file_;
  std::filesystem::path socket_;
};

}  // namespace tandem::posix
