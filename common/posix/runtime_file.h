// The LLM server's publication file in the runtime folder (llm-server.json): the same record as
// the registry key on Windows, as one JSON object replaced atomically, so a reader sees a whole
// publication or none. `state` is the field readers trust; port, url and addresses appear only
// while it is `ready`.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/discovery/endpoint.h"

namespace tandem::posix {

// {"v":1,"state":…,"pid":…,"instance":…,"port":…,"url":…,"addresses":[…],"socket":…,
//  "model":…,"started_at":…} (port, url, addresses only while ready; `socket` is pipe_name).
std::string encode_runtime_file(const discovery::Endpoint& endpoint);
// Throws InputError naming `origin`, the line and the field: an unknown state, `ready` without a
// port or url, a missing pid or instance.
discovery::Endpoint decode_runtime_file(const std::string& origin, std::string_view text);

// std::nullopt when the file does not exist (nothing published, or withdrawn).
std::optional<discovery::Endpoint> read_runtime_file(const std::filesystem::path& file);
void write_runtime_file(const std::filesystem::path& file, const discovery::Endpoint& endpoint);

}  // namespace tandem::posix
