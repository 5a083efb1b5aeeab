#include "service/http/connection_gate.h"

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <cerrno>
#include <limits>
#include <string>
#include <utility>

#include "common/error.h"
#include "common/log.h"
#include "service/http/error_body.h"

namespace tandem::http {

namespace {

#ifdef _WIN32
using PollFd = WSAPOLLFD;
int poll_all(PollFd* fds, std::size_t n, int timeout_ms) {
  return WSAPoll(fds, static_cast<ULONG>(n), timeout_ms);
}
int socket_error() {
  return WSAGetLastError();
}
void close_native(NativeSocket s) {
  closesocket(static_cast<SOCKET>(s));
}
constexpr NativeSocket kInvalid = INVALID_SOCKET;
#else
using PollFd = pollfd;
int poll_all(PollFd* fds, std::size_t n, int timeout_ms) {
  return ::poll(fds, static_cast<nfds_t>(n), timeout_ms);
}
int socket_error() {
  return errno;
}
void close_native(NativeSocket s) {
  ::close(s);
}
constexpr NativeSocket kInvalid = -1;
#endif

// A UDP socket on 127.0.0.1 connected to itself: a byte sent to it wakes the poll. (A pipe would
// do on Linux, but WSAPoll only takes sockets.)
NativeSocket make_wake_socket() {
  const NativeSocket s = ::socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
  if (s == kInvalid) {
    throw Error("HTTP: cannot create the connection gate's wake-up socket (error " +
                std::to_string(socket_error()) + ")");
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(a);
  if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &length) != 0 ||
      ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    const int code = socket_error();
    close_native(s);
    throw Error("HTTP: cannot bind the connection gate's wake-up socket to 127.0.0.1 (error " +
                std::to_string(code) + ")");
  }
  return s;
}

// The whole 408 goes out in one send() or not at all: the gate never blocks on a client.
void send_request_timeout(Connection& c, std::chrono::milliseconds limit) {
  const Response e = error_response(
      408, "request not received in full within " + std::to_string(limit.count()) + " ms",
      "request_timeout");
  const std::string reply = "HTTP/1.1 408 Request Timeout\r\nContent-Type: " + e.content_type +
                            "\r\nContent-Length: " + std::to_string(e.body.size()) +
                            "\r\nConnection: close\r\n\r\n" + e.body;
  if (net::wait_writable(c.socket, std::chrono::milliseconds(0)) > 0) {
    (void)net::send_some(c.socket, reply.data(), reply.size());
  }
}

}  // namespace

ConnectionGate::ConnectionGate(GateOptions options, Ready ready)
    : options_(options), ready_(std::move(ready)), wake_socket_(make_wake_socket()) {
  thread_ = std::thread([this] { run(); });
}

ConnectionGate::~ConnectionGate() {
  stop();
  close_native(wake_socket_);
}

void ConnectionGate::park(std::shared_ptr<Connection> c) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      incoming_.push_back(std::move(c));
      c.reset();
    }
  }
  if (c) {
    c->close(false);
    return;
  }
  wake();
}

void ConnectionGate::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake();
  if (thread_.joinable()) thread_.join();
}

void ConnectionGate::wake() {
  const char byte = 0;
  (void)net::send_some(wake_socket_, &byte, 1);
}

bool ConnectionGate::step(const std::shared_ptr<Connection>& c, bool readable,
                          Clock::time_point now) {
  if (readable) {
    char chunk[16384];
    const long n = net::receive(c->socket, chunk, sizeof(chunk));
    if (n <= 0) {  // closed by the client, or reset
      c->close(false);
      return false;
    }
    if (c->pending.empty() && c->request_deadline == Clock::time_point::max()) {
      c->request_deadline = now + options_.request_timeout;
    }
    c->pending.append(chunk, static_cast<std::size_t>(n));
    if (request_arrived(c->pending, options_.body_limit, options_.head_limit)) {
      ready_(c);
      return false;
    }
  }
  // Checked after reading too: a client that sends a byte at a time is always readable.
  if (!c->pending.empty() && now >= c->request_deadline) {
    TLOG(debug) << "HTTP: request from " << c->remote_address << " port " << c->remote_port
                << " incomplete after " << options_.request_timeout.count() << " ms: 408";
    send_request_timeout(*c, options_.request_timeout);
    c->close(false);
    return false;
  }
  if (c->pending.empty() && now >= c->idle_deadline) {
    c->close(false);
    return false;
  }
  return true;
}

void ConnectionGate::run() {
  std::vector<PollFd> fds;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
      for (auto& c : incoming_) parked_.push_back(std::move(c));
      incoming_.clear();
    }
    auto next = Clock::now() + std::chrono::seconds(1);
    fds.assign(parked_.size() + 1, PollFd{});
    fds[0].fd = wake_socket_;
    fds[0].events = POLLIN;
    for (std::size_t i = 0; i < parked_.size(); ++i) {
      const auto& c = parked_[i];
      fds[i + 1].fd = c->socket;
      fds[i + 1].events = POLLIN;
      next = std::min(next, c->pending.empty() ? c->idle_deadline : c->request_deadline);
    }
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(next - Clock::now());
    const int r = poll_all(fds.data(), fds.size(),
                           static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(
                               wait.count(), 0, std::numeric_limits<int>::max())));
    if (r < 0 && socket_error() != EINTR) {
      TLOG(warning) << "HTTP: connection gate poll failed (error " << socket_error() << ")";
    }
    if (r > 0 && fds[0].revents != 0) {
      char drain[64];
      while (net::wait_readable(wake_socket_, std::chrono::milliseconds(0)) > 0 &&
             net::receive(wake_socket_, drain, sizeof(drain)) > 0) {
      }
    }
    const auto now = Clock::now();
    std::vector<std::shared_ptr<Connection>> kept;
    kept.reserve(parked_.size());
    for (std::size_t i = 0; i < parked_.size(); ++i) {
      const bool readable = r > 0 && fds[i + 1].revents != 0;
      if (step(parked_[i], readable, now)) kept.push_back(std::move(parked_[i]));
    }
    parked_ = std::move(kept);
  }
  std::lock_guard lock(mutex_);
  for (auto& c : parked_) c->close(false);
  for (auto& c : incoming_) c->close(false);
  parked_.clear();
  incoming_.clear();
}

}  // namespace tandem::http
