#include "service/http/error_body.h"

#include <nlohmann/json.hpp>

namespace tandem::http {

std::string error_body(std::string_view message, std::string_view type, std::string_view code) {
  nlohmann::json body = {{"error", {{"message", message}, {"type", type}, {"code", code}}}};
  // Replace rather than throw on invalid UTF-8: the message may quote what a client sent.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Response error_response(int status, std::string_view message, std::string_view code) {
  Response response;
  response.status = status;
  response.body =
      error_body(message, status >= 500 ? "server_error" : "invalid_request_error", code);
  return response;
}

}  // namespace tandem::http
