// What the LLM server publishes about itself (docs/architecture.md#discovery-contract, version 1).
// The same record travels through the registry, the pipe and the POSIX runtime file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::discovery {

inline constexpr int kProtocolVersion = 1;
// A request or response larger than this is refused, whatever carries it.
inline constexpr std::size_t kMaxMessageBytes = 64 * 1024;

enum class State { starting, ready, stopping, stopped };

std::string_view state_name(State state);
// std::nullopt for anything but the four names (docs/architecture.md#discovery-contract).
std::optional<State> parse_state(std::string_view name);

struct Endpoint {
  State state = State::starting;
  std::uint16_t port = 0;              // 0 unless ready
  std::string url;                     // "http://127.0.0.1:<port>"; empty unless ready
  std::vector<std::string> addresses;  // both loopbacks the port is bound on; empty unless ready
  std::uint32_t pid = 0;
  std::string instance_id;                 // a GUID made at each start
  std::string pipe_name;                   // "\\.\pipe\tandem-llm"
  std::string model;                       // the default model
  std::vector<std::string> loaded_models;  // every model loaded now, the default first
  std::string started_at;                  // ISO-8601 UTC
  int protocol_version = kProtocolVersion;
};

// The addresses a ready LLM server listens on: both, on the same port.
std::vector<std::string> loopback_addresses();
std::string loopback_url(std::uint16_t port);

}  // namespace tandem::discovery
