// A fake $NOTIFY_SOCKET for tests: an abstract (or path) datagram socket that collects what a
// service tells systemd, and waits, with a bound, for a given line such as READY=1.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/posix/fd.h"
#include "common/posix/socket_address.h"

namespace tandem::testing {

class NotifyListener {
 public:
  // An abstract name unique to this process and listener: "@tandem-notify-<pid>-<n>".
  NotifyListener() : NotifyListener(unique_name()) {}
  explicit NotifyListener(std::string address) : address_(std::move(address)) {
    fd_ = posix::Fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd_) posix::throw_errno("socket(AF_UNIX, SOCK_DGRAM)");
    const posix::SocketAddress a(address_);
    if (::bind(fd_.get(), a.get(), a.size()) != 0) posix::throw_errno("bind(" + address_ + ")");
  }

  const std::string& address() const { return address_; }

  // Every datagram received so far, in order.
  const std::vector<std::string>& messages() const { return messages_; }

  // Reads datagrams until one holds `line` as one of its lines; false when `timeout` runs out.
  bool wait_for_line(const std::string& line, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::size_t seen = 0;
    for (;;) {
      for (; seen < messages_.size(); ++seen) {
        if (has_line(messages_[seen], line)) return true;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buffer[4096];
      const ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, 0);
      if (n > 0) messages_.emplace_back(buffer, static_cast<std::size_t>(n));
    }
  }

  static bool has_line(const std::string& message, const std::string& line) {
    std::size_t at = 0;
    while (at <= message.size()) {
      const auto end = message.find('\n', at);
      if (message.substr(at, end == std::string::npos ? std::string::npos : end - at) == line) {
        return true;
      }
      if (end == std::string::npos) return false;
      at = end + 1;
    }
    return false;
  }

 private:
  static std::string unique_name() {
    static std::atomic<int> counter{0};
    return "@tandem-notify-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  }

  std::string address_;
  posix::Fd fd_;
  std::vector<std::string> messages_;
};

}  // namespace tandem::testing
