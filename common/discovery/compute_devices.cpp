#include "common/discovery/compute_devices.h"

#include <algorithm>

#include "common/error.h"

namespace tandem::discovery {
namespace {

std::string text_field(const nlohmann::json& device, const char* key, const std::string& where) {
  const auto it = device.find(key);
  if (it == device.end()) return {};
  if (!it->is_string()) throw Error(where + "." + key + ": expected a string");
  return it->get<std::string>();
}

std::uint64_t bytes_field(const nlohmann::json& device, const char* key, const std::string& where) {
  const auto it = device.find(key);
  if (it == device.end()) return 0;
  if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<std::int64_t>() >= 0)) {
    throw Error(where + "." + key + ": expected a byte count");
  }
  return it->get<std::uint64_t>();
}

}  // namespace

nlohmann::ordered_json devices_json(const std::vector<ComputeDevice>& devices) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& d : devices) {
    out.push_back({{"name", d.name},
                   {"description", d.description},
                   {"type", d.type},
                   {"memory_free", d.memory_free},
                   {"memory_total", d.memory_total},
                   {"layers", d.layers}});
  }
  return out;
}

std::vector<ComputeDevice> parse_devices(const nlohmann::json& value, const std::string& where) {
  if (!value.is_array()) throw Error(where + ": expected an array of devices");
  std::vector<ComputeDevice> devices;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const std::string at = where + "[" + std::to_string(i) + "]";
    const auto& d = value[i];
    if (!d.is_object()) throw Error(at + ": expected an object");
    devices.push_back(
        {text_field(d, "name", at), text_field(d, "description", at), text_field(d, "type", at),
         bytes_field(d, "memory_free", at), bytes_field(d, "memory_total", at),
         static_cast<int>(std::min<std::uint64_t>(bytes_field(d, "layers", at), 1u << 20))});
  }
  return devices;
}

std::vector<ComputeDevice> parse_devices_text(const std::string& text, const std::string& where) {
  if (text.empty()) return {};
  const auto value = nlohmann::json::parse(text, nullptr, false);
  if (value.is_discarded()) throw Error(where + ": not JSON");
  return parse_devices(value, where);
}

}  // namespace tandem::discovery
