#include "common/peer_closed.h"

#include <winsock2.h>

namespace tandem {

bool peer_closed(std::uintptr_t socket) {
  const auto s = static_cast<SOCKET>(socket);
  fd_set readable;
  FD_ZERO(&readable);
  FD_SET(s, &readable);
  timeval now{0, 0};
  const int ready = ::select(0, &readable, nullptr, nullptr, &now);  // nfds is ignored on Windows
  if (ready == SOCKET_ERROR) return true;                            // not a usable socket
  if (ready == 0) return false;                                      // nothing to read: open
  char byte = 0;  // readable: data, the peer's FIN (0) or a reset (<0); recv cannot block now
  return ::recv(s, &byte, 1, MSG_PEEK) <= 0;
}

}  // namespace tandem
