// How long an idle model stays loaded, as Ollama spells it: seconds as a number, or a duration
// "30s", "5m", "1h"; a negative value keeps it loaded for good, 0 unloads it once idle. Read
// alike from llm-server.json, models.json and a request's `keep_alive`.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace tandem {

using KeepAlive = std::chrono::seconds;  // negative: forever
inline constexpr KeepAlive kKeepAliveForever{-1};

// The value, or nullopt with `error` saying what was expected.
std::optional<KeepAlive> parse_keep_alive(const nlohmann::json& value, std::string& error);

// "5m", "30s", "forever": for logs and listings.
std::string keep_alive_text(KeepAlive k);

}  // namespace tandem
