#include "common/posix/socket_address.h"

#include <cstddef>
#include <cstring>

#include "common/error.h"

namespace tandem::posix {

SocketAddress::SocketAddress(const std::string& path_or_abstract) {
  address_.sun_family = AF_UNIX;
  if (path_or_abstract.empty()) throw Error("empty Unix socket address");
  // Abstract names may use every byte of sun_path; paths need their terminating NUL.
  const bool abstract = path_or_abstract.front() == '@';
  const std::size_t limit = sizeof address_.sun_path - (abstract ? 0 : 1);
  if (path_or_abstract.size() > limit) {
    throw Error("Unix socket address " + path_or_abstract + " is " +
                std::to_string(path_or_abstract.size()) + " bytes; the limit is " +
                std::to_string(limit));
  }
  std::memcpy(address_.sun_path, path_or_abstract.data(), path_or_abstract.size());
  if (abstract) address_.sun_path[0] = '\0';
  size_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_or_abstract.size() +
                                 (abstract ? 0 : 1));
}

}  // namespace tandem::posix
