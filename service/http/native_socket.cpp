#include "service/http/native_socket.h"

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <limits>
#include <vector>

#include "common/error.h"

namespace tandem::http::net {

namespace {

using Clock = std::chrono::steady_clock;

#ifdef _WIN32
using PollFd = WSAPOLLFD;
using IoSize = int;
constexpr NativeSocket kInvalid = INVALID_SOCKET;
constexpr int kSendFlags = 0;
int poll_once(PollFd* fds, std::size_t n, int timeout_ms) {
  return WSAPoll(fds, static_cast<ULONG>(n), timeout_ms);
}
bool interrupted() {
  return false;  // Winsock has no signals to interrupt a call
}
#else
using PollFd = pollfd;
using IoSize = std::size_t;
constexpr NativeSocket kInvalid = -1;
constexpr int kSendFlags = MSG_NOSIGNAL;
int poll_once(PollFd* fds, std::size_t n, int timeout_ms) {
  return ::poll(fds, static_cast<nfds_t>(n), timeout_ms);
}
bool interrupted() {
  return errno == EINTR;
}
#endif

// poll() under the signal rule: interrupted, it polls again for the time that is left.
int poll_all(PollFd* fds, std::size_t n, std::chrono::milliseconds timeout) {
  if (timeout == kNoTimeout) {
    for (;;) {
      const int r = poll_once(fds, n, -1);
      if (r >= 0 || !interrupted()) return r;
    }
  }
  const auto deadline = Clock::now() + std::max(timeout, std::chrono::milliseconds(0));
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    const auto ms = std::clamp<std::chrono::milliseconds::rep>(left.count(), 0,
                                                               std::numeric_limits<int>::max());
    const int r = poll_once(fds, n, static_cast<int>(ms));
    if (r >= 0 || !interrupted()) return r;
  }
}

int wait_for(NativeSocket s, short events, std::chrono::milliseconds timeout) {
  PollFd fd{};
  fd.fd = s;
  fd.events = events;
  const int r = poll_all(&fd, 1, timeout);
  return r <= 0 ? r : 1;
}

template <typename Call>
long retried(Call call) {
  long n;
  do {
    n = call();
  } while (n < 0 && interrupted());
  return n;
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

int wait_readable(NativeSocket s, std::chrono::milliseconds timeout) {
  return wait_for(s, POLLIN, timeout);
}

int wait_writable(NativeSocket s, std::chrono::milliseconds timeout) {
  return wait_for(s, POLLOUT, timeout);
}

int wait_any_readable(std::span<Polled> sockets, std::chrono::milliseconds timeout) {
  std::vector<PollFd> fds(sockets.size());
  for (std::size_t i = 0; i < sockets.size(); ++i) {
    fds[i].fd = sockets[i].socket;
    fds[i].events = POLLIN;
  }
  const int r = poll_all(fds.data(), fds.size(), timeout);
  for (std::size_t i = 0; i < sockets.size(); ++i) sockets[i].readable = r > 0 && fds[i].revents;
  return r;
}

long receive(NativeSocket s, char* data, std::size_t size, bool peek) {
  const auto n = static_cast<IoSize>(std::min<std::size_t>(size, 1u << 30));
  return retried([&] { return static_cast<long>(::recv(s, data, n, peek ? MSG_PEEK : 0)); });
}

long send_some(NativeSocket s, const char* data, std::size_t size) {
  const auto n = static_cast<IoSize>(std::min<std::size_t>(size, 1u << 30));
  return retried([&] { return static_cast<long>(::send(s, data, n, kSendFlags)); });
}

#ifdef _WIN32
void shutdown_send(NativeSocket s) {
  ::shutdown(s, SD_SEND);
}
void shutdown_both(NativeSocket s) {
  ::shutdown(s, SD_BOTH);
}
void close(NativeSocket s) {
  closesocket(static_cast<SOCKET>(s));
}
int last_error() {
  return WSAGetLastError();
}
#else
void shutdown_send(NativeSocket s) {
  ::shutdown(s, SHUT_WR);
}
void shutdown_both(NativeSocket s) {
  ::shutdown(s, SHUT_RDWR);
}
void close(NativeSocket s) {
  ::close(s);
}
int last_error() {
  return errno;
}
#endif

NativeSocket loopback_wake_socket(const std::string& purpose) {
  const NativeSocket s = ::socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
  if (s == kInvalid) {
    throw Error("HTTP: cannot create " + purpose + " (socket: error " +
                std::to_string(last_error()) + ")");
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(a);
  const char* failed = nullptr;
  if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    failed = "bind";
  } else if (::getsockname(s, reinterpret_cast<sockaddr*>(&a), &length) != 0) {
    failed = "getsockname";
  } else if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    failed = "connect";
  }
  if (failed) {
    const int code = last_error();
    close(s);
    throw Error("HTTP: cannot bind " + purpose + " to 127.0.0.1 (" + failed + ": error " +
                std::to_string(code) + ")");
  }
  return s;
}

bool poke_listener(int family, std::uint16_t port) {
  const NativeSocket s = ::socket(family, SOCK_STREAM, IPPROTO_TCP);
  if (s == kInvalid) return false;
  sockaddr_storage storage{};
  socklen_t length = 0;
  if (family == AF_INET6) {
    auto& a = reinterpret_cast<sockaddr_in6&>(storage);
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    a.sin6_port = htons(port);
    length = sizeof(a);
  } else {
    auto& a = reinterpret_cast<sockaddr_in&>(storage);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    length = sizeof(a);
  }
  const bool connected = ::connect(s, reinterpret_cast<sockaddr*>(&storage), length) == 0;
  close(s);
  return connected;
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

}  // namespace tandem::http::net
