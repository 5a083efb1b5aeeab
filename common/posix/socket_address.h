// A sockaddr_un for a socket path, or for an abstract name written "@name" (as $NOTIFY_SOCKET
// gives it). A path too long for sun_path is an error naming it, never silently cut.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <string>

namespace tandem::posix {

class SocketAddress {
 public:
  explicit SocketAddress(const std::string& path_or_abstract);
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&address_); }
  socklen_t size() const { return size_; }

 private:
  sockaddr_un address_{};
  socklen_t size_ = 0;
};

}  // namespace tandem::posix
