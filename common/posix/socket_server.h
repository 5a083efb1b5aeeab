// The POSIX twin of win32::PipeServer: a Unix-domain SOCK_SEQPACKET socket at a path in the
// runtime folder, one JSON request per message and one response back, each connection served by
// its own thread. Mode 0660, and each peer checked by SO_PEERCRED: the server's own uid, root, or
// the socket's group; anyone else gets the protocol's error shape and is disconnected.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <list>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>

#include "common/posix/fd.h"
#include "common/posix/stop_fd.h"
#include "common/posix/unix_socket.h"

namespace tandem::posix {

// The error code a refused peer gets (beside the codes of common/discovery/protocol.h).
inline constexpr std::string_view kForbidden = "forbidden";

// Who may talk to a socket owned by `owner_uid` whose file belongs to `socket_gid`: that uid,
// root, or a member of that group (primary or supplementary).
bool peer_allowed(const PeerCredentials& peer, uid_t owner_uid, gid_t socket_gid);

class SocketServer {
 public:
  // Same contract as win32::PipeServer::Handler: may block (a `wait`) but must return soon after
  // `stop` is requested. An exception becomes an `internal` error response.
  using Handler = std::function<std::string(std::string_view request, std::stop_token stop)>;
  static constexpr int kMaxClients = 16;
  // A connected client that sends nothing for this long is dropped.
  static constexpr std::chrono::milliseconds kDefaultIdleTimeout{10000};

  // Throws tandem::Error if another process serves `path` (a squatter: we never serve behind
  // it) or the socket cannot be made. A socket file nobody listens on (left by a killed run) is
  // replaced. Serving starts before the constructor returns.
  SocketServer(std::filesystem::path path, Handler handler,
               std::chrono::milliseconds idle_timeout = kDefaultIdleTimeout);
  // stop(), then the socket file is removed if it is still the one we made.
  ~SocketServer();
  SocketServer(const SocketServer&) = delete;
  SocketServer& operator=(const SocketServer&) = delete;

  // Ends every connection, even inside a handler that honours the stop token; returns when all
  // threads have ended. Idempotent.
  void stop();

  const std::filesystem::path& path() const { return path_; }

 private:
  struct Client {
    std::thread thread;
    std::atomic<bool> done{false};
  };
  void accept_loop();
  void serve_client(const Fd& client, const PeerCredentials& peer);
  std::string answer(std::string_view request);
  void reap_finished();

  std::filesystem::path path_;
  std::string where_;
  Handler handler_;
  std::chrono::milliseconds idle_timeout_;
  std::stop_source stop_source_;
  StopFd stop_fd_;
  Fd listener_;
  dev_t device_ = 0;
  ino_t inode_ = 0;
  uid_t owner_uid_ = 0;
  gid_t socket_gid_ = 0;
  std::atomic<bool> stopped_{false};
  std::mutex clients_mutex_;
  std::list<Client> clients_;
  std::thread acceptor_;
};

}  // namespace tandem::posix
