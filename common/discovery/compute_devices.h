// The published device list's one JSON form, the same in the pipe's answer, the Linux runtime
// file and the registry's Devices value (docs/architecture.md#discovery-contract):
// [{"name":"CPU","description":"AMD EPYC","type":"cpu","memory_free":…,"memory_total":…}].
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/discovery/endpoint.h"

namespace tandem::discovery {

nlohmann::ordered_json devices_json(const std::vector<ComputeDevice>& devices);
// Tolerant, as every answer is: unknown keys are ignored (another backend adds its own), a known
// key of the wrong type throws tandem::Error naming `where` and the field.
std::vector<ComputeDevice> parse_devices(const nlohmann::json& value, const std::string& where);
// The registry's REG_SZ holds the JSON text; empty text is no devices.
std::vector<ComputeDevice> parse_devices_text(const std::string& text, const std::string& where);

}  // namespace tandem::discovery
