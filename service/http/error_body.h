// OpenAI-shaped error responses, {"error":{"message":…,"type":…,"code":…}}, so existing
// OpenAI clients show our errors the way they show OpenAI's.
#pragma once

#include <string>
#include <string_view>

#include "service/http/http_types.h"

namespace tandem::http {

std::string error_body(std::string_view message, std::string_view type, std::string_view code);

// type is "invalid_request_error" for 4xx and "server_error" for 5xx.
Response error_response(int status, std::string_view message, std::string_view code);

}  // namespace tandem::http
