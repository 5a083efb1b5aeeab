// A deliberately small HTTP/1.1 client over one loopback socket: keep-alive, Content-Length and
// chunked bodies, chunk-by-chunk callbacks. Enough to test the server byte by byte.
#pragma once

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/loopback_socket.h"

namespace tandem::testing {

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::vector<std::string> chunks;  // the chunks as framed on the wire, when chunked

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// True when `headers` (raw "Name: value\r\n" lines) already set a Content-Type.
inline bool names_content_type(std::string headers) {
  std::transform(headers.begin(), headers.end(), headers.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return headers.rfind("content-type:", 0) == 0 ||
         headers.find("\ncontent-type:") != std::string::npos;
}

class RawHttpConnection {
 public:
  RawHttpConnection(const std::string& numeric_ip, std::uint16_t port)
      : socket_(connect_loopback(numeric_ip, port)),
        host_(numeric_ip.find(':') != std::string::npos ? "[" + numeric_ip + "]" : numeric_ip) {
    host_ += ":" + std::to_string(port);
  }

  Socket& socket() { return socket_; }

  void send_request(const std::string& method, const std::string& path,
                    const std::string& body = {}, const std::string& extra_headers = {}) {
    std::string request =
        method + " " + path + " HTTP/1.1\r\nHost: " + host_ + "\r\n" + extra_headers;
    if (method == "POST" && !names_content_type(extra_headers)) {
      request += "Content-Type: application/json\r\n";  // what the API takes (else 415)
    }
    if (!body.empty() || method == "POST") {
      request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    request += "\r\n" + body;
    socket_.send_all(request);
  }

  // Reads one reply. on_chunk sees each chunk as it arrives; returning false stops reading
  // there (the rest of the reply stays unread).
  HttpReply read_reply(const std::function<bool(const std::string&)>& on_chunk = {}) {
    HttpReply reply;
    std::string head = read_until("\r\n\r\n");
    auto line_end = head.find("\r\n");
    std::string status_line = head.substr(0, line_end);
    if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) {
      throw std::runtime_error("not an HTTP status line: " + status_line);
    }
    reply.status = std::stoi(status_line.substr(9, 3));
    for (auto pos = line_end + 2; pos < head.size();) {
      auto end = head.find("\r\n", pos);
      std::string field = head.substr(pos, end - pos);
      pos = end + 2;
      auto colon = field.find(':');
      if (colon == std::string::npos) continue;
      std::string name = field.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      auto value_start = field.find_first_not_of(' ', colon + 1);
      reply.headers[name] = value_start == std::string::npos ? "" : field.substr(value_start);
    }

    if (reply.header("transfer-encoding") == "chunked") {
      for (;;) {
        std::string size_line = read_until("\r\n");
        auto size = std::stoul(size_line, nullptr, 16);
        std::string chunk = read_exactly(size + 2).substr(0, size);
        if (size == 0) break;  // the trailer section ended with the CRLF just read
        reply.chunks.push_back(chunk);
        reply.body += chunk;
        if (on_chunk && !on_chunk(chunk)) break;
      }
    } else if (auto length = reply.header("content-length"); !length.empty()) {
      reply.body = read_exactly(std::stoul(length));
    } else if (reply.header("connection") == "close") {
      while (socket_.receive(buffer_)) {
      }
      reply.body = std::move(buffer_);
      buffer_.clear();
    }
    return reply;
  }

  HttpReply request(const std::string& method, const std::string& path,
                    const std::string& body = {}, const std::string& extra_headers = {}) {
    send_request(method, path, body, extra_headers);
    return read_reply();
  }

  // True if the server has closed the connection (bounded by the receive timeout).
  bool closed_by_server() {
    if (!buffer_.empty()) return false;
    try {
      return !socket_.receive(buffer_);
    } catch (const std::exception&) {
      return true;  // reset by the server counts as closed
    }
  }

 private:
  std::string read_until(const std::string& marker) {
    for (;;) {
      if (auto at = buffer_.find(marker); at != std::string::npos) {
        std::string out = buffer_.substr(0, at + marker.size());
        buffer_.erase(0, at + marker.size());
        return out;
      }
      if (!socket_.receive(buffer_)) throw std::runtime_error("connection closed mid-reply");
    }
  }

  std::string read_exactly(std::size_t n) {
    while (buffer_.size() < n) {
      if (!socket_.receive(buffer_)) throw std::runtime_error("connection closed mid-body");
    }
    std::string out = buffer_.substr(0, n);
    buffer_.erase(0, n);
    return out;
  }

  Socket socket_;
  std::string host_;
  std::string buffer_;
};

}  // namespace tandem::testing
