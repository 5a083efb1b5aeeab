// The HTTP request and response as the API handlers see them: no cpp-httplib here, so the
// handlers are plain functions tested without sockets.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace tandem::http {

// Header names compare case-insensitively, as HTTP says.
struct CaseInsensitiveLess {
  bool operator()(std::string_view a, std::string_view b) const;
};
using Headers = std::map<std::string, std::string, CaseInsensitiveLess>;

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query string
  Headers headers;
  std::string body;
  std::string remote_address;  // "127.0.0.1" or "::1"
  // True once the client has closed its connection; valid only while the handler runs (a
  // non-streamed answer's work checks it to stop early, as a streamed one's writer does).
  std::function<bool()> client_gone = [] { return false; };

  std::optional<std::string> header(std::string_view name) const;
};

// Writes one chunk of a streamed body; false once the client has gone away.
using ChunkWriter = std::function<bool(std::string_view chunk)>;

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  Headers headers;
  std::string body;
  // When set, the body is streamed (chunked) by calling this once; `body` is ignored.
  std::function<void(const ChunkWriter& write)> stream;
};

using Handler = std::function<Response(const Request&)>;

}  // namespace tandem::http
