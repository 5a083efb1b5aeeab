// One keep-alive HTTP/1.1 connection over TCP with TCP_NODELAY: the single client every server
// in the native benchmarks is measured with, so differences are the servers'.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace tandem::bench {

struct Reply {
  int status = 0;
  std::string body;
};

class KeepAliveConnection {
 public:
  KeepAliveConnection(const std::string& host, std::uint16_t port);
  ~KeepAliveConnection();
  KeepAliveConnection(const KeepAliveConnection&) = delete;
  KeepAliveConnection& operator=(const KeepAliveConnection&) = delete;

  // Sends the request and reads the whole reply (Content-Length or chunked framing).
  // Reconnects first when the server closed the connection after its last reply.
  // `on_data`, when given, sees each piece of the body as it arrives (a streamed reply's events).
  Reply request(const std::string& method, const std::string& path, const std::string& body,
                const std::function<void(std::string_view)>& on_data = {});
  int reconnects() const { return reconnects_; }

 private:
  std::string read_until(const std::string& marker);
  std::string read_exactly(std::size_t count);
  void fill();
  void connect();

  std::string host_;
  std::uint16_t port_;
  int fd_ = -1;
  int reconnects_ = 0;
  std::string host_header_;
  std::string buffer_;
};

}  // namespace tandem::bench
