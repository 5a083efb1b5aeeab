// An owned POSIX file descriptor (socket, eventfd, inotify): closed exactly once, moved, never
// copied. Every POSIX failure in common/posix/ becomes tandem::Error via throw_errno().
#pragma once

#include <string>
#include <utility>

namespace tandem::posix {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Throws tandem::Error "<call> failed: <strerror(errno)>", naming the call and its arguments.
[[noreturn]] void throw_errno(const std::string& call);
[[noreturn]] void throw_errno(const std::string& call, int error);
std::string errno_text(int error);

}  // namespace tandem::posix
