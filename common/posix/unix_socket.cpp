#include "common/posix/unix_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "common/discovery/endpoint.h"
#include "common/error.h"
#include "common/files.h"
#include "common/posix/socket_address.h"

namespace tandem::posix {

PeerCredentials peer_credentials(int fd, bool with_groups) {
  ucred cred{};
  socklen_t length = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &length) != 0) {
    throw_errno("getsockopt(SO_PEERCRED)");
  }
  PeerCredentials peer{cred.pid, cred.uid, cred.gid, {}};
  if (!with_groups) return peer;
  std::vector<gid_t> groups(64);
  for (;;) {
    auto bytes = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &bytes) == 0) {
      groups.resize(bytes / sizeof(gid_t));
      peer.groups = std::move(groups);
      return peer;
    }
    // Kernels before 4.13 lack it: then only the primary group counts.
    if (errno == ENOPROTOOPT) return peer;
    // ERANGE: `bytes` now says how much is needed.
    if (errno != ERANGE) throw_errno("getsockopt(SO_PEERGROUPS)");
    groups.resize(bytes / sizeof(gid_t) + 1);
  }
}

Wait wait_fd(int fd, short events, int stop_fd, Clock::time_point deadline) {
  pollfd fds[2] = {{fd, events, 0}, {stop_fd, POLLIN, 0}};
  const nfds_t count = stop_fd >= 0 ? 2 : 1;
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return Wait::timed_out;
    const int timeout = deadline == Clock::time_point::max()
                            ? -1
                            : static_cast<int>(std::min<long long>(left, 24LL * 3600 * 1000));
    const int n = ::poll(fds, count, timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("poll()");
    }
    if (count == 2 && fds[1].revents != 0) return Wait::stopped;
    if (fds[0].revents != 0) return Wait::ready;
  }
}

Fd seqpacket_socket() {
  Fd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) throw_errno("socket(AF_UNIX, SOCK_SEQPACKET)");
  return fd;
}

void send_message(int fd, std::string_view message, int stop_fd, Clock::time_point deadline,
                  const std::string& where) {
  for (;;) {
    const ssize_t n = ::send(fd, message.data(), message.size(), MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(message.size())) return;
    if (n >= 0) throw Error("send(" + where + ") sent only part of a message");
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) throw_errno("send(" + where + ")");
    switch (wait_fd(fd, POLLOUT, stop_fd, deadline)) {
      case Wait::ready:
        break;
      case Wait::stopped:
        throw StopRequested();
      case Wait::timed_out:
        throw Error("send(" + where + ") timed out: the peer does not read");
    }
  }
}

Received receive_message(int fd, int stop_fd, Clock::time_point deadline,
                         const std::string& where) {
  Received r;
  std::string buffer(discovery::kMaxMessageBytes, '\0');
  for (;;) {
    iovec io{buffer.data(), buffer.size()};
    msghdr header{};
    header.msg_iov = &io;
    header.msg_iovlen = 1;
    const ssize_t n = ::recvmsg(fd, &header, MSG_CMSG_CLOEXEC);
    if (n > 0) {
      r.too_big = (header.msg_flags & MSG_TRUNC) != 0;
      buffer.resize(static_cast<std::size_t>(n));
      r.message = std::move(buffer);
      return r;
    }
    if (n == 0) {
      r.end = Received::End::closed;
      return r;
    }
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) {
      r.end = Received::End::closed;
      return r;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK) throw_errno("recvmsg(" + where + ")");
    switch (wait_fd(fd, POLLIN, stop_fd, deadline)) {
      case Wait::ready:
        break;
      case Wait::stopped:
        r.end = Received::End::stopped;
        return r;
      case Wait::timed_out:
        r.end = Received::End::timed_out;
        return r;
    }
  }
}

SocketCall call_socket(const std::filesystem::path& path, std::string_view request,
                       std::chrono::milliseconds timeout, int stop_fd) {
  const std::string where = path_utf8(path);
  const auto deadline = Clock::now() + timeout;
  Fd fd = seqpacket_socket();
  const SocketAddress address(path);
  if (::connect(fd.get(), address.get(), address.size()) != 0) {
    const int error = errno;
    if (error == ENOENT) throw Error("no socket at " + where);
    if (error == ECONNREFUSED) throw Error("nobody listens on " + where + " (a stale socket)");
    if (error == EAGAIN) throw Error(where + " is busy (its listen queue is full)");
    throw_errno("connect(" + where + ")", error);
  }
  SocketCall call;
  call.server = peer_credentials(fd.get());
  send_message(fd.get(), request, stop_fd, deadline, where);
  Received in = receive_message(fd.get(), stop_fd, deadline, where);
  switch (in.end) {
    case Received::End::message:
      break;
    case Received::End::stopped:
      throw StopRequested();
    case Received::End::closed:
      throw Error(where + " closed the connection without answering");
    case Received::End::timed_out:
      throw Error(where + " did not answer within " + std::to_string(timeout.count()) + " ms");
  }
  if (in.too_big) throw Error(where + " answered with a message over the protocol's limit");
  call.response = std::move(in.message);
  return call;
}

}  // namespace tandem::posix
