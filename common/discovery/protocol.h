// The pipe protocol (docs/architecture.md#named-pipe-protocol), version 1: one JSON object per
// message, at most 64 KiB.
// Requests:  {"v":1,"op":"resolve"|"status"}   {"v":1,"op":"wait","timeout_ms":N}
// Responses: {"v":1,"ok":true,"state":…,…endpoint…}   {"v":1,"ok":false,"error":{code,message}}
// Keys are written in the order docs/architecture.md#named-pipe-protocol shows them.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/discovery/endpoint.h"
#include "common/error.h"

namespace tandem::discovery {

// Error codes a response may carry.
inline constexpr std::string_view kBadRequest = "bad_request";
inline constexpr std::string_view kUnsupportedVersion = "unsupported_version";
inline constexpr std::string_view kTimeout = "timeout";
inline constexpr std::string_view kNotReady = "not_ready";
inline constexpr std::string_view kInternal = "internal";

// The longest `wait` a client may ask for (the trainer's resolve_timeout_ms allows a day too).
inline constexpr std::chrono::milliseconds kMaxWait{24LL * 3600 * 1000};

// A request the server refuses; code() is what goes into the error response.
class ProtocolError : public Error {
 public:
  ProtocolError(std::string_view code, const std::string& message) : Error(message), code_(code) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

enum class Op { resolve, wait, status };

struct Request {
  Op op = Op::resolve;
  std::chrono::milliseconds timeout{0};  // only for wait, where it is required
};

// Throws ProtocolError (bad_request or unsupported_version) with a message naming the field.
Request parse_request(std::string_view message);
std::string encode_request(const Request& request);

// ok:true with the state; port, url and addresses only while ready; pid, instance and model when
// known.
std::string encode_endpoint(const Endpoint& endpoint);
std::string encode_error(std::string_view code, std::string_view message);

struct ResponseError {
  std::string code;
  std::string message;
};

// Either the endpoint (ok:true) or the server's error (ok:false).
struct Response {
  std::optional<Endpoint> endpoint;
  std::optional<ResponseError> error;
  bool ok() const { return endpoint.has_value(); }
};

// Client side. A response that breaks the contract throws tandem::Error naming the field.
Response decode_response(std::string_view message);

}  // namespace tandem::discovery
