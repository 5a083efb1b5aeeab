// A keep-alive HTTP client for loopback URLs with separate connect and read timeouts; what the
// trainer, tandemctl and the tray use to talk to TandemLlm. cpp-httplib stays in the .cpp.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <map>

#include "common/error.h"

namespace tandem {

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds read_timeout{120000};
  std::string api_key;  // sent as a Bearer token when set
};

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// Failed to connect, send or receive (no HTTP status): the caller should resolve again.
class ConnectionError : public Error {
 public:
  using Error::Error;
};

// The server closed the kept-alive connection before a request was sent (it ended, or closed an
// idle connection). Nothing was sent: the caller resolves again and retries at no cost.
class ConnectionClosed : public ConnectionError {
 public:
  using ConnectionError::ConnectionError;
};

// A kept-alive connection the server closed on its own is reported (ConnectionClosed), never
// silently reopened to the same port: the server may have ended and another program taken it.
class HttpClient {
 public:
  // `base_url` like "http://127.0.0.1:8031".
  HttpClient(std::string base_url, HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResult get(const std::string& path);
  HttpResult post_json(const std::string& path, const std::string& body);
  const std::string& base_url() const { return base_url_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string base_url_;
};

}  // namespace tandem
