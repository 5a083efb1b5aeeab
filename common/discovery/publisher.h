// Where a server announces itself: the registry and a named pipe on Windows, a runtime file and a
// Unix socket elsewhere. The service body only ever talks to this interface.
#pragma once

#include "common/discovery/endpoint.h"

namespace tandem::discovery {

class Publisher {
 public:
  virtual ~Publisher() = default;
  // Identity known, no port yet (State=starting).
  virtual void starting(const Endpoint& endpoint) = 0;
  // Both binds done and the model answers: port and URL become visible, state `ready` last.
  virtual void ready(const Endpoint& endpoint) = 0;
  // State `stopping`, port and URL gone, then `stopped`; waiting clients are answered.
  virtual void withdraw() = 0;
};

}  // namespace tandem::discovery
