// Unix-domain SOCK_SEQPACKET sockets carrying the pipe protocol: one JSON object per message
// (at most discovery::kMaxMessageBytes), as a message-mode named pipe does on Windows, and the
// peer's credentials (SO_PEERCRED), which is how a client knows who serves the socket.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/posix/fd.h"

namespace tandem::posix {

using Clock = std::chrono::steady_clock;

struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;              // primary group
  std::vector<gid_t> groups;  // supplementary groups (SO_PEERGROUPS); filled on request
};

// SO_PEERCRED of a connected socket: the process that connected (server side) or that called
// listen() (client side). With `with_groups`, also its supplementary groups (SO_PEERGROUPS), so a
// member of the socket's group by `usermod -aG` is recognised too.
PeerCredentials peer_credentials(int fd, bool with_groups = false);

enum class Wait { ready, timed_out, stopped };
// Until `fd` has `events` (POLLIN/POLLOUT), `stop_fd` (-1: none) is readable, or `deadline`.
Wait wait_fd(int fd, short events, int stop_fd, Clock::time_point deadline);

// A non-blocking, close-on-exec SOCK_SEQPACKET socket.
Fd seqpacket_socket();

// One whole message, within `deadline`. Throws tandem::Error naming `where`; StopRequested when
// `stop_fd` turns readable.
void send_message(int fd, std::string_view message, int stop_fd, Clock::time_point deadline,
                  const std::string& where);

struct Received {
  enum class End { message, closed, timed_out, stopped } end = End::message;
  std::string message;
  bool too_big = false;  // the message was longer than the limit (then `message` is cut)
};
Received receive_message(int fd, int stop_fd, Clock::time_point deadline, const std::string& where);

// What a client got: the answer and who gave it.
struct SocketCall {
  std::string response;
  PeerCredentials server;
};

// Connects to `path`, sends `request`, returns the one response. Throws tandem::Error naming
// the socket (no such socket, refused, timed out, closed without answering); StopRequested when
// `stop_fd` turns readable.
SocketCall call_socket(const std::filesystem::path& path, std::string_view request,
                       std::chrono::milliseconds timeout, int stop_fd = -1);

}  // namespace tandem::posix
