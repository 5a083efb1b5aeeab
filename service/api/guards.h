// The checks made before any route runs: the Host header (a DNS-rebinding guard: a web page
// whose name resolves to 127.0.0.1 still sends its own name as Host), the Origin and Content-Type
// (without an API key, a web page the user visits must not drive the server) and the API key.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "service/http/http_types.h"

namespace tandem::api {

// True for 127.0.0.1, [::1] and localhost, with or without a port, and for no Host at all.
bool host_allowed(const std::optional<std::string>& host);

// A browser names the page behind a request in Origin; other clients send none. True for no
// Origin, or one listed in `allowed` exactly ("*" there allows any).
bool origin_allowed(const std::optional<std::string>& origin,
                    const std::vector<std::string>& allowed);

// application/json, with or without parameters ("; charset=utf-8"), in any case. A page can
// send text/plain or a form to any address without asking first; JSON needs a CORS preflight.
bool is_json_media_type(const std::optional<std::string>& content_type);

// The key the request presents: "Authorization: Bearer <key>", else "X-Api-Key: <key>".
std::optional<std::string> presented_key(const http::Request& request);

// Compares in time that depends only on the lengths, so a wrong key's timing says nothing of
// how much of it was right.
bool constant_time_equal(std::string_view a, std::string_view b);

// "…wxyz" for logs: a key is never logged whole, short keys not at all.
std::string key_hint(std::string_view key);

}  // namespace tandem::api
