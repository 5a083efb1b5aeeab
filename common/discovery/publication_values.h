// The registry half of the discovery contract (docs/architecture.md#registry-publication), apart
// from the registry itself: which named values a publication holds and in which order they
// change, so a reader never sees `ready` without a port, nor a port after `stopping`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/discovery/endpoint.h"

namespace tandem::discovery {

namespace value {
inline constexpr const char* kState = "State";
inline constexpr const char* kPort = "Port";
inline constexpr const char* kUrl = "Url";
inline constexpr const char* kPid = "Pid";
inline constexpr const char* kInstanceId = "InstanceId";
inline constexpr const char* kPipeName = "PipeName";
inline constexpr const char* kModel = "Model";
// The loaded models' ids joined by '|', which no Windows file name (so no model id) holds.
inline constexpr const char* kLoadedModels = "LoadedModels";
inline constexpr const char* kStartedAt = "StartedAt";
// The CPU backend module chosen at start, its instruction sets, and the devices as JSON text
// (common/discovery/compute_devices.h).
inline constexpr const char* kCpuVariant = "CpuVariant";
inline constexpr const char* kCpuFeatures = "CpuFeatures";
inline constexpr const char* kDevices = "Devices";
inline constexpr const char* kProtocolVersion = "ProtocolVersion";
}  // namespace value

// Named string and number values: a registry key on Windows, a map in tests.
class ValueStore {
 public:
  virtual ~ValueStore() = default;
  virtual void set_string(const std::string& name, const std::string& value) = 0;
  virtual void set_dword(const std::string& name, std::uint32_t value) = 0;
  virtual void remove(const std::string& name) = 0;  // a missing value is fine
  virtual std::optional<std::string> get_string(const std::string& name) const = 0;
  virtual std::optional<std::uint32_t> get_dword(const std::string& name) const = 0;
};

// State=starting first (a stale `ready` from a crashed run goes before its Port does), Port and
// Url deleted, then the identity: Pid, InstanceId, PipeName, Model, LoadedModels, StartedAt,
// CpuVariant, CpuFeatures, Devices, ProtocolVersion.
void write_starting(ValueStore& store, const Endpoint& endpoint);
// Port, Url and the identity, then State=ready last. Throws tandem::Error (before writing
// anything) if the endpoint has no port or url.
void write_ready(ValueStore& store, const Endpoint& endpoint);
// State=stopping, Port and Url deleted, then State=stopped.
void write_withdrawn(ValueStore& store);

// std::nullopt when there is no State value (nothing published yet). A State outside the four
// names, or `ready` without a valid Port and Url, throws tandem::Error naming `where` and the
// value. Addresses are not stored: a ready endpoint gets loopback_addresses().
std::optional<Endpoint> read_endpoint(const ValueStore& store, const std::string& where);

}  // namespace tandem::discovery
