#include "service/http/connection.h"

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <limits>

namespace tandem::http {

namespace {

#ifdef _WIN32
using PollFd = WSAPOLLFD;
int poll_one(PollFd* fd, int timeout_ms) {
  return WSAPoll(fd, 1, timeout_ms);
}
constexpr int kShutdownSend = SD_SEND;
constexpr int kShutdownBoth = SD_BOTH;
constexpr int kSendFlags = 0;
void close_native(NativeSocket s) {
  closesocket(static_cast<SOCKET>(s));
}
#else
using PollFd = pollfd;
int poll_one(PollFd* fd, int timeout_ms) {
  int r;
  do {
    r = ::poll(fd, 1, timeout_ms);
  } while (r < 0 && errno == EINTR);
  return r;
}
constexpr int kShutdownSend = SHUT_WR;
constexpr int kShutdownBoth = SHUT_RDWR;
constexpr int kSendFlags = MSG_NOSIGNAL;
void close_native(NativeSocket s) {
  ::close(s);
}
#endif

int wait_for(NativeSocket s, short events, std::chrono::milliseconds timeout) {
  PollFd fd{};
  fd.fd = s;
  fd.events = events;
  const auto ms = std::clamp<std::chrono::milliseconds::rep>(timeout.count(), 0,
                                                             std::numeric_limits<int>::max());
  const int r = poll_one(&fd, static_cast<int>(ms));
  if (r <= 0) return r;
  // A hang-up or error is "ready" too: the next recv()/send() reports it.
  return 1;
}

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

template <typename Call>
void numeric_name(NativeSocket s, Call call, std::string& address, int& port) {
  sockaddr_storage storage{};
  socklen_t length = sizeof(storage);
  address.clear();
  port = 0;
  if (call(s, reinterpret_cast<sockaddr*>(&storage), &length) != 0) return;
  char host[NI_MAXHOST];
  char service[NI_MAXSERV];
  if (getnameinfo(reinterpret_cast<sockaddr*>(&storage), length, host, sizeof(host), service,
                  sizeof(service), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return;
  }
  address = host;
  port = std::atoi(service);
}

}  // namespace

Connection::Connection(NativeSocket s) : socket(s) {}

Connection::~Connection() {
  close(false);
}

void Connection::close(bool drain) {
  if (!open_) return;
  open_ = false;
  ::shutdown(socket, kShutdownSend);
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
  ::shutdown(socket, kShutdownBoth);
  close_native(socket);
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

namespace net {

int wait_readable(NativeSocket s, std::chrono::milliseconds timeout) {
  return wait_for(s, POLLIN, timeout);
}

int wait_writable(NativeSocket s, std::chrono::milliseconds timeout) {
  return wait_for(s, POLLOUT, timeout);
}

#ifdef _WIN32
using IoSize = int;
#else
using IoSize = std::size_t;
#endif

long receive(NativeSocket s, char* data, std::size_t size, bool peek) {
  const auto n = static_cast<IoSize>(std::min<std::size_t>(size, 1u << 30));
  return static_cast<long>(::recv(s, data, n, peek ? MSG_PEEK : 0));
}

long send_some(NativeSocket s, const char* data, std::size_t size) {
  const auto n = static_cast<IoSize>(std::min<std::size_t>(size, 1u << 30));
  return static_cast<long>(::send(s, data, n, kSendFlags));
}

void peer_address(NativeSocket s, std::string& address, int& port) {
  numeric_name(
      s, [](NativeSocket n, sockaddr* a, socklen_t* l) { return ::getpeername(n, a, l); }, address,
      port);
}

void local_address(NativeSocket s, std::string& address, int& port) {
  numeric_name(
      s, [](NativeSocket n, sockaddr* a, socklen_t* l) { return ::getsockname(n, a, l); }, address,
      port);
}

}  // namespace net

}  // namespace tandem::http
