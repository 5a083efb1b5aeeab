// Finding the live TandemLlm endpoint, never trusted from one source
// (docs/architecture.md#resolving-the-server).
#pragma once

#include <chrono>
#include <optional>
#include <stop_token>
#include <string>

#include "common/discovery/endpoint.h"

namespace tandem::discovery {

class Resolver {
 public:
  virtual ~Resolver() = default;
  // The endpoint if every check passes now; otherwise std::nullopt and `why` says which check
  // failed, in words an administrator can act on.
  virtual std::optional<Endpoint> resolve(std::string& why) = 0;
  // Blocks on the server's own signals (pipe `wait`, registry change notification) until
  // resolve() succeeds; throws tandem::Error with the last reason when `timeout` runs out, and
  // StopRequested as soon as `stop` is requested (a service stopping while it waits).
  virtual Endpoint wait_ready(std::chrono::milliseconds timeout, std::stop_token stop) = 0;
};

}  // namespace tandem::discovery
