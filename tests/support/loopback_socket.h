// Plain loopback sockets for tests, on Linux and Windows alike: holding a port the way another
// program would (no socket options at all), finding free ports, and connecting as a client.
// Tests of the HTTP server use these instead of any HTTP library the server itself uses.
#pragma once

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#endif

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tandem::testing {

enum class Family { v4, v6 };

inline const char* loopback(Family f) {
  return f == Family::v4 ? "127.0.0.1" : "::1";
}

namespace socket_detail {

#ifdef _WIN32
using Native = SOCKET;
constexpr Native kInvalid = INVALID_SOCKET;
inline int last_error() {
  return WSAGetLastError();
}
inline void close_native(Native s) {
  closesocket(s);
}
#else
using Native = int;
constexpr Native kInvalid = -1;
inline int last_error() {
  return errno;
}
inline void close_native(Native s) {
  ::close(s);
}
#endif

inline void ensure_started() {
#ifdef _WIN32
  static const bool started = [] {
    WSADATA data;
    return WSAStartup(MAKEWORD(2, 2), &data) == 0;
  }();
  if (!started) throw std::runtime_error("WSAStartup failed");
#endif
}

inline sockaddr_storage address(Family f, std::uint16_t port, socklen_t& length) {
  sockaddr_storage storage{};
  if (f == Family::v4) {
    auto* a = reinterpret_cast<sockaddr_in*>(&storage);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    length = sizeof(sockaddr_in);
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&storage);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    a->sin6_addr = in6addr_loopback;
    length = sizeof(sockaddr_in6);
  }
  return storage;
}

}  // namespace socket_detail

class Socket {
 public:
  Socket() = default;
  explicit Socket(socket_detail::Native s) : s_(s) {}
  Socket(Socket&& o) noexcept : s_(std::exchange(o.s_, socket_detail::kInvalid)) {}
  Socket& operator=(Socket&& o) noexcept {
    if (this != &o) {
      close();
      s_ = std::exchange(o.s_, socket_detail::kInvalid);
    }
    return *this;
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket() { close(); }

  bool valid() const { return s_ != socket_detail::kInvalid; }
  socket_detail::Native native() const { return s_; }
  void close() {
    if (valid()) socket_detail::close_native(std::exchange(s_, socket_detail::kInvalid));
  }

  void send_all(std::string_view data) {
    while (!data.empty()) {
      auto n = ::send(s_, data.data(), static_cast<int>(data.size()), 0);
      if (n <= 0) {
        throw std::runtime_error("send failed: error " +
                                 std::to_string(socket_detail::last_error()));
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // Appends what arrives to `into`; false at end of stream. Throws on error or after the receive
  // timeout set by connect_loopback(), which bounds every wait of a test.
  bool receive(std::string& into) {
    char buffer[16384];
    auto n = ::recv(s_, buffer, static_cast<int>(sizeof(buffer)), 0);
    if (n < 0) {
      throw std::runtime_error("recv failed or timed out: error " +
                               std::to_string(socket_detail::last_error()));
    }
    into.append(buffer, static_cast<std::size_t>(n));
    return n > 0;
  }

 private:
  socket_detail::Native s_ = socket_detail::kInvalid;
};

// How a holder binds: plainly (as a careless program would), or asking to share the port
// (SO_REUSEADDR, and SO_REUSEPORT where it exists), as a program trying to take it over would.
enum class Sharing { none, ask };

// A listening socket on the loopback address; nullopt if the port cannot be had.
inline std::optional<Socket> try_hold_port(Family f, std::uint16_t port,
                                           Sharing sharing = Sharing::none) {
  socket_detail::ensure_started();
  Socket s(::socket(f == Family::v4 ? AF_INET : AF_INET6, SOCK_STREAM, IPPROTO_TCP));
  if (!s.valid()) return std::nullopt;
  int on = 1;
  if (f == Family::v6) {
    setsockopt(s.native(), IPPROTO_IPV6, IPV6_V6ONLY, reinterpret_cast<const char*>(&on),
               sizeof(on));
  }
  if (sharing == Sharing::ask) {
    setsockopt(s.native(), SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<const char*>(&on),
               sizeof(on));
#ifdef SO_REUSEPORT
    setsockopt(s.native(), SOL_SOCKET, SO_REUSEPORT, reinterpret_cast<const char*>(&on),
               sizeof(on));
#endif
  }
  socklen_t length = 0;
  auto a = socket_detail::address(f, port, length);
  if (::bind(s.native(), reinterpret_cast<sockaddr*>(&a), length) != 0) return std::nullopt;
  if (::listen(s.native(), 4) != 0) return std::nullopt;
  return s;
}

inline Socket hold_port(Family f, std::uint16_t port) {
  auto s = try_hold_port(f, port);
  if (!s) {
    throw std::runtime_error(std::string("cannot hold ") + loopback(f) + " port " +
                             std::to_string(port));
  }
  return std::move(*s);
}

// The first of `count` consecutive ports free on both loopback addresses, from a random start
// in 20000-31999 (below Linux's ephemeral range) so that concurrent test processes rarely meet.
inline std::uint16_t find_free_ports(int count) {
  std::random_device device;
  std::mt19937 random(device() ^ static_cast<unsigned>(
                                     std::chrono::steady_clock::now().time_since_epoch().count()));
  std::uniform_int_distribution<int> start(20000, 31999 - count);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int base = start(random);
    bool all_free = true;
    for (int p = base; p < base + count && all_free; ++p) {
      all_free = try_hold_port(Family::v4, static_cast<std::uint16_t>(p)).has_value() &&
                 try_hold_port(Family::v6, static_cast<std::uint16_t>(p)).has_value();
    }
    if (all_free) return static_cast<std::uint16_t>(base);
  }
  throw std::runtime_error("no " + std::to_string(count) +
                           " consecutive free loopback ports found");
}

// A connected client socket with TCP_NODELAY and a receive timeout; nullopt if refused.
inline std::optional<Socket> try_connect(
    const std::string& numeric_ip, std::uint16_t port,
    std::chrono::milliseconds receive_timeout = std::chrono::seconds(10)) {
  socket_detail::ensure_started();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST;
  addrinfo* found = nullptr;
  if (getaddrinfo(numeric_ip.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) {
    throw std::runtime_error("not a numeric address: " + numeric_ip);
  }
  Socket s(::socket(found->ai_family, found->ai_socktype, found->ai_protocol));
  bool connected = s.valid() && ::connect(s.native(), found->ai_addr,
                                          static_cast<socklen_t>(found->ai_addrlen)) == 0;
  freeaddrinfo(found);
  if (!connected) return std::nullopt;
  int on = 1;
  setsockopt(s.native(), IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&on), sizeof(on));
#ifdef _WIN32
  DWORD timeout = static_cast<DWORD>(receive_timeout.count());
#else
  timeval timeout{};
  timeout.tv_sec = static_cast<time_t>(receive_timeout.count() / 1000);
  timeout.tv_usec = static_cast<suseconds_t>((receive_timeout.count() % 1000) * 1000);
#endif
  setsockopt(s.native(), SOL_SOCKET, SO_RCVTIMEO, reinterpret_cast<const char*>(&timeout),
             sizeof(timeout));
  return s;
}

inline Socket connect_loopback(const std::string& numeric_ip, std::uint16_t port) {
  auto s = try_connect(numeric_ip, port);
  if (!s)
    throw std::runtime_error("cannot connect to " + numeric_ip + " port " + std::to_string(port));
  return std::move(*s);
}

// Every address a host name resolves to, numerically ("localhost" → "127.0.0.1", maybe "::1").
inline std::vector<std::string> resolve(const std::string& host) {
  socket_detail::ensure_started();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), "80", &hints, &found) != 0) {
    throw std::runtime_error("cannot resolve " + host);
  }
  std::vector<std::string> out;
  for (auto* a = found; a; a = a->ai_next) {
    char text[NI_MAXHOST] = {};
    if (getnameinfo(a->ai_addr, static_cast<socklen_t>(a->ai_addrlen), text, sizeof(text), nullptr,
                    0, NI_NUMERICHOST) == 0) {
      std::string ip(text);
      bool seen = false;
      for (const auto& o : out) seen = seen || o == ip;
      if (!seen) out.push_back(ip);
    }
  }
  freeaddrinfo(found);
  return out;
}

}  // namespace tandem::testing
