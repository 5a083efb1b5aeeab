// The last check of every resolver (docs/architecture.md#resolving-the-server): GET /health on
// the published URL answers 200 with the published instance in X-Tandem-Instance, so a port
// taken over by another program (or another run) is never used.
#pragma once

#include <optional>
#include <string>

#include "common/discovery/endpoint.h"

namespace tandem::discovery {

// std::nullopt when the endpoint answers as itself; otherwise why not, in words for a person.
std::optional<std::string> check_health(const Endpoint& published);

}  // namespace tandem::discovery
