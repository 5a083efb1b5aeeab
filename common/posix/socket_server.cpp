#include "common/posix/socket_server.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <exception>

#include "common/discovery/endpoint.h"
#include "common/discovery/protocol.h"
#include "common/error.h"
#include "common/files.h"
#include "common/log.h"
#include "common/posix/socket_address.h"

namespace tandem::posix {
namespace {

[[noreturn]] void refuse_squatter(const std::string& where, const std::string& who) {
  throw Error("another process (" + who + ") already serves " + where +
              "; refusing to serve behind it (stop that process or check who made the socket)");
}

// A socket file left by a killed run is removed; one somebody answers on is a squatter.
void clear_stale_socket(const std::filesystem::path& path, const std::string& where) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) return;
    throw_errno("lstat(" + where + ")");
  }
  if (!S_ISSOCK(info.st_mode)) {
    throw Error(where + " exists and is not a socket; refusing to replace it");
  }
  Fd probe = seqpacket_socket();
  const SocketAddress address(path.string());
  if (::connect(probe.get(), address.get(), address.size()) == 0 || errno == EAGAIN) {
    std::string who = "a listener";
    try {
      who = "pid " + std::to_string(peer_credentials(probe.get()).pid);
    } catch (const Error&) {
      // The listen queue was full: someone serves it all the same.
    }
    refuse_squatter(where, who);
  }
  if (errno != ECONNREFUSED) throw_errno("connect(" + where + ") to check who serves it");
  TLOG(info) << "removing the stale socket " << where << " (nobody listens on it)";
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw_errno("unlink(" + where + ")");
}

}  // namespace

bool peer_allowed(const PeerCredentials& peer, uid_t owner_uid, gid_t socket_gid) {
  return peer.uid == owner_uid || peer.uid == 0 || peer.gid == socket_gid ||
         std::find(peer.groups.begin(), peer.groups.end(), socket_gid) != peer.groups.end();
}

SocketServer::SocketServer(std::filesystem::path path, Handler handler,
                           std::chrono::milliseconds idle_timeout)
    : path_(std::move(path)),
      where_(path_utf8(path_)),
      handler_(std::move(handler)),
      idle_timeout_(idle_timeout),
      stop_fd_(stop_source_.get_token()),
      owner_uid_(::geteuid()) {
  clear_stale_socket(path_, where_);
  listener_ = seqpacket_socket();
  const SocketAddress address(path_.string());
  if (::bind(listener_.get(), address.get(), address.size()) != 0) {
    if (errno == EADDRINUSE) refuse_squatter(where_, "it bound the path first");
    throw_errno("bind(" + where_ + ")");
  }
  // Before listen(): until then nobody can connect, whatever the umask made of the mode.
  if (::chmod(path_.c_str(), 0660) != 0) throw_errno("chmod(" + where_ + ", 0660)");
  struct stat info {};
  if (::stat(path_.c_str(), &info) != 0) throw_errno("stat(" + where_ + ")");
  device_ = info.st_dev;
  inode_ = info.st_ino;
  socket_gid_ = info.st_gid;
  if (::listen(listener_.get(), SOMAXCONN) != 0) throw_errno("listen(" + where_ + ")");
  acceptor_ = std::thread([this] { accept_loop(); });
  TLOG(info) << "serving " << where_ << " (mode 0660, uid " << owner_uid_ << ", gid " << socket_gid_
             << ")";
}

SocketServer::~SocketServer() {
  stop();
  struct stat info {};
  if (::stat(path_.c_str(), &info) == 0 && info.st_dev == device_ && info.st_ino == inode_) {
    ::unlink(path_.c_str());
  }
}

void SocketServer::stop() {
  if (stopped_.exchange(true)) return;
  stop_source_.request_stop();
  if (acceptor_.joinable()) acceptor_.join();
  std::lock_guard lock(clients_mutex_);
  for (auto& client : clients_) {
    if (client.thread.joinable()) client.thread.join();
  }
  clients_.clear();
  TLOG(info) << "stopped serving " << where_;
}

void SocketServer::reap_finished() {
  std::lock_guard lock(clients_mutex_);
  for (auto it = clients_.begin(); it != clients_.end();) {
    if (it->done.load()) {
      it->thread.join();
      it = clients_.erase(it);
    } else {
      ++it;
    }
  }
}

void SocketServer::accept_loop() {
  try {
    for (;;) {
      const Wait w = wait_fd(listener_.get(), POLLIN, stop_fd_.get(), Clock::time_point::max());
      if (w == Wait::stopped) return;
      Fd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
      if (!client) {
        if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED) continue;
        throw_errno("accept4(" + where_ + ")");
      }
      reap_finished();
      std::lock_guard lock(clients_mutex_);
      if (clients_.size() >= static_cast<std::size_t>(kMaxClients)) {
        TLOG(warning) << where_ << ": " << kMaxClients << " clients connected; refusing another";
        continue;  // closing it is the refusal
      }
      auto& slot = clients_.emplace_back();
      slot.thread = std::thread([this, &slot, fd = std::move(client)]() mutable {
        try {
          serve_client(fd, peer_credentials(fd.get(), true));
        } catch (const StopRequested&) {
          // The server is stopping mid-answer.
        } catch (const std::exception& e) {
          TLOG(warning) << where_ << ": a client connection failed: " << e.what();
        }
        fd.reset();
        slot.done.store(true);
      });
    }
  } catch (const std::exception& e) {
    TLOG(error) << where_ << " stopped accepting clients: " << e.what();
  }
}

void SocketServer::serve_client(const Fd& client, const PeerCredentials& peer) {
  const bool allowed = peer_allowed(peer, owner_uid_, socket_gid_);
  // Several requests may come on one connection; the client closing is the normal end.
  for (;;) {
    Received in =
        receive_message(client.get(), stop_fd_.get(), Clock::now() + idle_timeout_, where_);
    if (in.end == Received::End::timed_out) {
      TLOG(debug) << where_ << ": dropped a client idle for " << idle_timeout_.count() << " ms";
      return;
    }
    if (in.end != Received::End::message) return;
    std::string response;
    if (!allowed) {
      TLOG(warning) << where_ << ": refused pid " << peer.pid << " (uid " << peer.uid << ", gid "
                    << peer.gid << ")";
      response = discovery::encode_error(
          kForbidden, "uid " + std::to_string(peer.uid) + " may not use " + where_ + "; only uid " +
                          std::to_string(owner_uid_) + ", root or group " +
                          std::to_string(socket_gid_) + " may");
    } else if (in.too_big) {
      response = discovery::encode_error(
          discovery::kBadRequest,
          "request is over the limit of " + std::to_string(discovery::kMaxMessageBytes) + " bytes");
    } else {
      response = answer(in.message);
    }
    if (stop_source_.stop_requested()) return;
    send_message(client.get(), response, stop_fd_.get(), Clock::now() + idle_timeout_, where_);
    if (!allowed) return;
  }
}

std::string SocketServer::answer(std::string_view request) {
  try {
    return handler_(request, stop_source_.get_token());
  } catch (const std::exception& e) {
    TLOG(error) << where_ << ": answering a request failed: " << e.what();
    return discovery::encode_error(discovery::kInternal, e.what());
  }
}

}  // namespace tandem::posix
