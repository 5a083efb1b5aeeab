#include "bench/native/keepalive_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace tandem::bench {
namespace {

std::runtime_error failure(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

KeepAliveConnection::KeepAliveConnection(const std::string& host, std::uint16_t port)
    : host_(host), port_(port), host_header_(host + ":" + std::to_string(port)) {
  connect();
}

void KeepAliveConnection::connect() {
  buffer_.clear();
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port_);
  if (inet_pton(AF_INET, host_.c_str(), &address.sin_addr) != 1) {
    throw std::runtime_error("not an IPv4 address: " + host_);
  }
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) throw failure("socket()");
  const int one = 1;
  const char* failed = nullptr;
  if (::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
    failed = "setsockopt(TCP_NODELAY)";
  } else if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    failed = "connect()";
  }
  if (failed != nullptr) {
    auto error = failure(std::string(failed) + " to " + host_header_);
    ::close(fd_);
    fd_ = -1;
    throw error;
  }
}

KeepAliveConnection::~KeepAliveConnection() {
  if (fd_ >= 0) ::close(fd_);
}

void KeepAliveConnection::fill() {
  char chunk[16384];
  const ssize_t got = ::recv(fd_, chunk, sizeof chunk, 0);
  if (got < 0) throw failure("recv()");
  if (got == 0) throw std::runtime_error("the server closed the connection");
  buffer_.append(chunk, static_cast<std::size_t>(got));
}

std::string KeepAliveConnection::read_until(const std::string& marker) {
  std::size_t at = 0;
  while ((at = buffer_.find(marker)) == std::string::npos) fill();
  std::string head = buffer_.substr(0, at + marker.size());
  buffer_.erase(0, at + marker.size());
  return head;
}

std::string KeepAliveConnection::read_exactly(std::size_t count) {
  while (buffer_.size() < count) fill();
  std::string data = buffer_.substr(0, count);
  buffer_.erase(0, count);
  return data;
}

Reply KeepAliveConnection::request(const std::string& method, const std::string& path,
                                   const std::string& body,
                                   const std::function<void(std::string_view)>& on_data) {
  if (fd_ < 0) {  // the server closed the last one (it caps requests per connection)
    connect();
    ++reconnects_;
  }
  std::string out = method + " " + path + " HTTP/1.1\r\nHost: " + host_header_ + "\r\n";
  if (method == "POST") {
    out +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  out += "\r\n" + body;
  auto send_all = [&] {
    for (std::size_t sent = 0; sent < out.size();) {
      const ssize_t n = ::send(fd_, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n < 0) throw failure("send()");
      sent += static_cast<std::size_t>(n);
    }
  };
  send_all();
  std::string head;
  try {
    head = lower(read_until("\r\n\r\n"));
  } catch (const std::runtime_error&) {
    // llama-server closes a connection after a streamed reply without saying so: a reused
    // connection that ends before any byte of the reply is opened again and the request resent.
    if (!buffer_.empty()) throw;
    ::close(fd_);
    connect();
    ++reconnects_;
    send_all();
    head = lower(read_until("\r\n\r\n"));
  }
  if (head.rfind("http/1.", 0) != 0 || head.size() < 12) {
    throw std::runtime_error("not an HTTP reply: " + head.substr(0, 40));
  }
  Reply reply;
  reply.status = std::stoi(head.substr(9, 3));
  const auto length_at = head.find("\r\ncontent-length:");
  if (length_at != std::string::npos) {
    reply.body = read_exactly(std::stoul(head.substr(length_at + 17)));
    if (on_data) on_data(reply.body);
  } else if (head.find("\r\ntransfer-encoding: chunked") != std::string::npos) {
    for (;;) {
      const std::size_t size = std::stoul(read_until("\r\n"), nullptr, 16);
      const std::string piece = read_exactly(size);
      if (on_data && size > 0) on_data(piece);
      reply.body += piece;
      read_exactly(2);
      if (size == 0) break;
    }
  } else {
    throw std::runtime_error("reply without Content-Length or chunked framing");
  }
  if (head.find("\r\nconnection: close") != std::string::npos) {
    ::close(fd_);
    fd_ = -1;
  }
  return reply;
}

}  // namespace tandem::bench
