// The one error shape of the API: whatever goes wrong while answering a request becomes an
// ApiError, and every ApiError is answered as OpenAI does, so clients' own error handling works:
//   {"error":{"message":…,"type":…,"param":…,"code":…}}
#pragma once

#include <exception>
#include <string>

#include "common/error.h"
#include "service/api/openai_json.h"
#include "service/http/http_types.h"

namespace tandem::api {

class ApiError : public Error {
 public:
  ApiError(int status, std::string type, std::string code, const std::string& message,
           std::string param = {});

  int status() const { return status_; }
  const std::string& type() const { return type_; }
  const std::string& code() const { return code_; }
  const std::string& param() const { return param_; }  // the request field at fault, if any
  const http::Headers& headers() const { return headers_; }

  // Extra response headers (Allow, Retry-After, WWW-Authenticate).
  ApiError& with_header(const std::string& name, const std::string& value);

 private:
  int status_;
  std::string type_;
  std::string code_;
  std::string param_;
  http::Headers headers_;
};

// 400 for a request field: "field 'max_tokens': expected an integer from 1 to 4096, got -5".
ApiError invalid_field(const std::string& field, const std::string& what);

// Maps any exception to the ApiError answered for it: ApiError as is, inference::QueueFull to 503
// with Retry-After, inference::PromptTooLong and InputError to 400, anything else to 500.
ApiError to_api_error(const std::exception_ptr& error);

Json error_json(const ApiError& error);
http::Response error_response(const ApiError& error);

}  // namespace tandem::api
