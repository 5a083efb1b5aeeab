#include "common/discovery/endpoint.h"

#include <array>

namespace tandem::discovery {
namespace {

constexpr std::array<std::string_view, 4> kStateNames = {"starting", "ready", "stopping",
                                                         "stopped"};

}  // namespace

std::string_view state_name(State state) {
  return kStateNames[static_cast<std::size_t>(state)];
}

std::optional<State> parse_state(std::string_view name) {
  for (std::size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == name) return static_cast<State>(i);
  }
  return std::nullopt;
}

std::vector<std::string> loopback_addresses() {
  return {"127.0.0.1", "::1"};
}

std::string loopback_url(std::uint16_t port) {
  return "http://127.0.0.1:" + std::to_string(port);
}

}  // namespace tandem::discovery
