#include "common/posix/runtime_file.h"

#include <limits>

#include <nlohmann/json.hpp>

#include "common/discovery/compute_devices.h"
#include "common/error.h"
#include "common/files.h"
#include "common/json_fields.h"
#include "common/json_source.h"

namespace tandem::posix {

std::string encode_runtime_file(const discovery::Endpoint& endpoint) {
  nlohmann::ordered_json j;
  j["v"] = endpoint.protocol_version;
  j["state"] = discovery::state_name(endpoint.state);
  j["pid"] = endpoint.pid;
  j["instance"] = endpoint.instance_id;
  if (endpoint.state == discovery::State::ready) {
    j["port"] = endpoint.port;
    j["url"] = endpoint.url;
    j["addresses"] = endpoint.addresses;
  }
  j["socket"] = endpoint.pipe_name;
  j["model"] = endpoint.model;
  j["loaded_models"] = endpoint.loaded_models;
  j["started_at"] = endpoint.started_at;
  j["cpu_variant"] = endpoint.cpu_variant;
  j["cpu_features"] = endpoint.cpu_features;
  j["devices"] = discovery::devices_json(endpoint.devices);
  return j.dump(2) + "\n";
}

discovery::Endpoint decode_runtime_file(const std::string& origin, std::string_view text) {
  const JsonSource source(origin, text);
  if (!source.root().is_object()) {
    throw InputError(source.where(""),
                     "expected a JSON object, got " + json_type_name(source.root()));
  }
  ObjectReader r(source);
  discovery::Endpoint e;
  const auto version = r.integer("v", 1, std::numeric_limits<int>::max());
  if (!version) r.fail("v", "is required");
  if (*version != discovery::kProtocolVersion) {
    r.fail("v", "version " + std::to_string(*version) + " is not supported (this build speaks " +
                    std::to_string(discovery::kProtocolVersion) + ")");
  }
  const auto state = r.string("state");
  if (!state) r.fail("state", "is required");
  const auto parsed = discovery::parse_state(*state);
  if (!parsed)
    r.fail("state", "expected starting, ready, stopping or stopped; got '" + *state + "'");
  e.state = *parsed;
  const auto pid = r.integer("pid", 1, std::numeric_limits<std::int32_t>::max());
  if (!pid) r.fail("pid", "is required");
  e.pid = static_cast<std::uint32_t>(*pid);
  e.instance_id = r.string("instance").value_or("");
  if (e.instance_id.empty()) r.fail("instance", "is required");
  e.pipe_name = r.string("socket").value_or("");
  e.model = r.string("model").value_or("");
  e.loaded_models = r.strings("loaded_models").value_or(std::vector<std::string>{});
  e.started_at = r.string("started_at").value_or("");
  e.cpu_variant = r.string("cpu_variant").value_or("");
  e.cpu_features = r.string("cpu_features").value_or("");
  if (const auto it = source.root().find("devices"); it != source.root().end()) {
    e.devices = discovery::parse_devices(*it, source.where("/devices"));
  }
  const auto port = r.integer("port", 1, 65535);
  const auto url = r.string("url");
  if (e.state == discovery::State::ready) {
    if (!port) r.fail("port", "is required when state is ready");
    if (!url || url->empty()) r.fail("url", "is required when state is ready");
    e.port = static_cast<std::uint16_t>(*port);
    e.url = *url;
    e.addresses = discovery::loopback_addresses();
  }
  // Unknown fields are let through: a newer server may add some. `addresses` is there for
  // people and scripts; readers use the contract's two loopbacks.
  return e;
}

std::optional<discovery::Endpoint> read_runtime_file(const std::filesystem::path& file) {
  const auto text = read_file_if_exists(file);
  if (!text) return std::nullopt;
  return decode_runtime_file(path_utf8(file), *text);
}

void write_runtime_file(const std::filesystem::path& file, const discovery::Endpoint& endpoint) {
  write_file_atomically(file, encode_runtime_file(endpoint));
}

}  // namespace tandem::posix
