#include "common/discovery/publication_values.h"

#include <algorithm>

#include "common/discovery/compute_devices.h"
#include "common/error.h"

namespace tandem::discovery {
namespace {

void write_identity(ValueStore& store, const Endpoint& e) {
  store.set_dword(value::kPid, e.pid);
  store.set_string(value::kInstanceId, e.instance_id);
  store.set_string(value::kPipeName, e.pipe_name);
  store.set_string(value::kModel, e.model);
  std::string loaded;
  for (const auto& id : e.loaded_models) loaded += (loaded.empty() ? "" : "|") + id;
  store.set_string(value::kLoadedModels, loaded);
  store.set_string(value::kStartedAt, e.started_at);
  store.set_string(value::kCpuVariant, e.cpu_variant);
  store.set_string(value::kCpuFeatures, e.cpu_features);
  store.set_string(value::kDevices, devices_json(e.devices).dump());
  store.set_dword(value::kProtocolVersion, static_cast<std::uint32_t>(e.protocol_version));
}

}  // namespace

void write_starting(ValueStore& store, const Endpoint& endpoint) {
  // State first: a stale `ready` from a crashed run must not be seen without its Port.
  store.set_string(value::kState, std::string(state_name(State::starting)));
  store.remove(value::kPort);
  store.remove(value::kUrl);
  write_identity(store, endpoint);
}

void write_ready(ValueStore& store, const Endpoint& endpoint) {
  if (endpoint.port == 0 || endpoint.url.empty()) {
    throw Error("cannot publish ready without a port and url (port " +
                std::to_string(endpoint.port) + ", url \"" + endpoint.url + "\")");
  }
  store.set_dword(value::kPort, endpoint.port);
  store.set_string(value::kUrl, endpoint.url);
  write_identity(store, endpoint);
  store.set_string(value::kState, std::string(state_name(State::ready)));
}

void write_withdrawn(ValueStore& store) {
  store.set_string(value::kState, std::string(state_name(State::stopping)));
  store.remove(value::kPort);
  store.remove(value::kUrl);
  store.set_string(value::kState, std::string(state_name(State::stopped)));
}

std::optional<Endpoint> read_endpoint(const ValueStore& store, const std::string& where) {
  auto state_text = store.get_string(value::kState);
  if (!state_text) return std::nullopt;
  auto state = parse_state(*state_text);
  if (!state) {
    throw Error(where + ": value 'State': expected starting, ready, stopping or stopped; got \"" +
                *state_text + "\"");
  }
  Endpoint e;
  e.state = *state;
  e.pid = store.get_dword(value::kPid).value_or(0);
  e.instance_id = store.get_string(value::kInstanceId).value_or("");
  e.pipe_name = store.get_string(value::kPipeName).value_or("");
  e.model = store.get_string(value::kModel).value_or("");
  const std::string loaded = store.get_string(value::kLoadedModels).value_or("");
  for (std::size_t at = 0; at < loaded.size();) {
    const auto bar = std::min(loaded.find('|', at), loaded.size());
    e.loaded_models.push_back(loaded.substr(at, bar - at));
    at = bar + 1;
  }
  e.started_at = store.get_string(value::kStartedAt).value_or("");
  e.cpu_variant = store.get_string(value::kCpuVariant).value_or("");
  e.cpu_features = store.get_string(value::kCpuFeatures).value_or("");
  e.devices = parse_devices_text(store.get_string(value::kDevices).value_or(""),
                                 where + ": value 'Devices'");
  e.protocol_version = static_cast<int>(store.get_dword(value::kProtocolVersion).value_or(0));
  if (e.state == State::ready) {
    auto port = store.get_dword(value::kPort);
    auto url = store.get_string(value::kUrl);
    if (!port || *port == 0 || *port > 65535) {
      throw Error(where + ": value 'Port': State is ready but Port is " +
                  (port ? std::to_string(*port) : std::string("missing")));
    }
    if (!url || url->empty())
      throw Error(where + ": value 'Url': State is ready but Url is missing");
    e.port = static_cast<std::uint16_t>(*port);
    e.url = *url;
    e.addresses = loopback_addresses();
  }
  return e;
}

}  // namespace tandem::discovery
