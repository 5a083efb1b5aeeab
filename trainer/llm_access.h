// How a job reaches the live server: its URL and key as resolved just before they are used, so a
// server restarted on another port is found.
#pragma once

#include <functional>
#include <stop_token>
#include <string>

namespace tandem::trainer {

// The live server as resolved just before a (re)start.
struct LlmAccess {
  std::string url;      // "http://127.0.0.1:8031"
  std::string api_key;  // empty: the server has none configured
};

// Resolves the live server. Blocks within its own bound and throws when the server is not ready
// by then.
using EndpointSource = std::function<LlmAccess(std::stop_token stop)>;

}  // namespace tandem::trainer
