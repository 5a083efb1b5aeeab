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

// A device ggml computes on (the CPU; a GPU once a GPU backend is loaded), as the server found it
// at start. Another backend adds its devices here, and what it places on each beside them.
struct ComputeDevice {
  std::string name;         // ggml's device name: "CPU", "Vulkan0"
  std::string description;  // the processor's or GPU's own name
  std::string type;         // "cpu", "gpu", "igpu" or "accel"
  std::uint64_t memory_free = 0;
  std::uint64_t memory_total = 0;
  int layers = 0;  // of the default model, on this device (n_gpu_layers; the CPU holds the rest)
  bool operator==(const ComputeDevice&) const = default;
};

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
  std::string cpu_variant;                 // the CPU backend module chosen at start: "haswell"
  std::string cpu_features;                // that module's instruction sets: "AVX AVX2 FMA ..."
  std::vector<ComputeDevice> devices;      // what ggml computes on
  int protocol_version = kProtocolVersion;
};

// The addresses a ready LLM server listens on: both, on the same port.
std::vector<std::string> loopback_addresses();
std::string loopback_url(std::uint16_t port);

}  // namespace tandem::discovery
