#include "common/posix/systemd_notify.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "common/error.h"
#include "common/log.h"
#include "common/posix/fd.h"
#include "common/posix/socket_address.h"

namespace tandem::posix {
namespace {

std::string extend_timeout(std::chrono::milliseconds hint) {
  return "EXTEND_TIMEOUT_USEC=" + std::to_string(hint.count() * 1000);
}

}  // namespace

void notify_socket(const std::string& socket, std::string_view state) {
  const SocketAddress address(socket);
  Fd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) throw_errno("socket(AF_UNIX, SOCK_DGRAM) for " + socket);
  for (;;) {
    const ssize_t n =
        ::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL, address.get(), address.size());
    if (n == static_cast<ssize_t>(state.size())) return;
    if (n < 0 && errno == EINTR) continue;
    if (n >= 0) throw Error("sendto(" + socket + ") sent only part of the notification");
    throw_errno("sendto(" + socket + ")");
  }
}

bool sd_notify(std::string_view state) {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  if (socket == nullptr || *socket == '\0') return false;
  try {
    notify_socket(socket, state);
    return true;
  } catch (const Error& e) {
    TLOG(warning) << "telling systemd '" << state << "' failed: " << e.what();
    return false;
  }
}

void SystemdStatus::starting(std::chrono::milliseconds wait_hint) {
  TLOG(info) << name_ << ": starting (next step within " << wait_hint.count() << " ms)";
  sd_notify("STATUS=starting\n" + extend_timeout(wait_hint));
}

void SystemdStatus::running() {
  TLOG(info) << name_ << ": running";
  sd_notify("READY=1\nSTATUS=running");
}

void SystemdStatus::stopping(std::chrono::milliseconds wait_hint) {
  TLOG(info) << name_ << ": stopping (next step within " << wait_hint.count() << " ms)";
  sd_notify("STOPPING=1\nSTATUS=stopping\n" + extend_timeout(wait_hint));
}

}  // namespace tandem::posix
