#include "service/http/connection.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace tandem::http {

namespace {

bool equal_names(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

Connection::Connection(NativeSocket s) : socket(s) {}

Connection::~Connection() {
  close(false);
}

void Connection::close(bool drain) {
  if (!open_) return;
  open_ = false;
  net::shutdown_send(socket);
  if (drain) {
    const auto until = Clock::now() + std::chrono::milliseconds(100);
    char sink[16384];
    std::size_t total = 0;
    while (total < (1u << 20)) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
      if (left.count() <= 0 || net::wait_readable(socket, left) <= 0) break;
      const long n = net::receive(socket, sink, sizeof(sink));
      if (n <= 0) break;
      total += static_cast<std::size_t>(n);
    }
  }
  net::shutdown_both(socket);
  net::close(socket);
}

bool request_arrived(std::string_view pending, std::size_t body_limit, std::size_t head_limit) {
  // cpp-httplib accepts bare LF line ends as well as CRLF.
  std::size_t head_end = std::string_view::npos;
  for (std::size_t i = pending.find('\n'); i != std::string_view::npos;
       i = pending.find('\n', i + 1)) {
    if (i + 1 < pending.size() && pending[i + 1] == '\n') {
      head_end = i + 2;
      break;
    }
    if (i + 2 < pending.size() && pending[i + 1] == '\r' && pending[i + 2] == '\n') {
      head_end = i + 3;
      break;
    }
  }
  if (head_end == std::string_view::npos) return pending.size() > head_limit;

  std::size_t lengths = 0;
  std::size_t body = 0;
  std::string_view head = pending.substr(0, head_end);
  head.remove_prefix(std::min(head.find('\n'), head.size()));  // the request line
  while (!head.empty()) {
    head.remove_prefix(1);
    const std::size_t eol = std::min(head.find('\n'), head.size());
    const std::string_view line = head.substr(0, eol);
    head.remove_prefix(eol);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, colon);
    if (equal_names(name, "Transfer-Encoding") || equal_names(name, "Expect")) return true;
    if (!equal_names(name, "Content-Length")) continue;
    const std::string_view value = trim(line.substr(colon + 1));
    if (++lengths > 1 || value.empty() || value.size() > 12 ||
        !std::all_of(value.begin(), value.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; })) {
      return true;  // malformed: cpp-httplib answers it without the body
    }
    body = static_cast<std::size_t>(std::stoull(std::string(value)));
  }
  if (body > body_limit) return true;
  return pending.size() - head_end >= body;
}

}  // namespace tandem::http
