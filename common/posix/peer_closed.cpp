#include "common/peer_closed.h"

#include <poll.h>
#include <sys/socket.h>

namespace tandem {

bool peer_closed(std::uintptr_t socket) {
  pollfd p{static_cast<int>(socket), POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return false;  // nothing to read: still open
  if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) return true;
  char byte = 0;
  return ::recv(p.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) <= 0;  // 0: the peer's FIN; <0: reset
}

}  // namespace tandem
