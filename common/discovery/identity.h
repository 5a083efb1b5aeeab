// The identity values a publication carries: process id, a fresh instance id, the start time.
#pragma once

#include <cstdint>
#include <string>

namespace tandem::discovery {

std::uint32_t current_pid();
// A random (version 4) GUID in its usual text form, without braces.
std::string new_instance_id();
// Now, as ISO-8601 UTC with seconds: "2026-11-27T07:18:51Z".
std::string utc_now_iso8601();

}  // namespace tandem::discovery
