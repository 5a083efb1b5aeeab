// A std::stop_token as a file descriptor: an eventfd that turns readable the moment a stop is
// requested (also if it already was), so poll() can wait on a socket and a stop at once.
#pragma once

#include <optional>
#include <stop_token>

#include "common/posix/fd.h"

namespace tandem::posix {

class StopFd {
 public:
  explicit StopFd(std::stop_token stop);
  StopFd(const StopFd&) = delete;
  StopFd& operator=(const StopFd&) = delete;
  ~StopFd();

  int get() const { return fd_.get(); }
  // Makes it readable without a stop token (a server stopping its own threads).
  void signal() const;

 private:
  struct Signal {
    const StopFd* self;
    void operator()() const { self->signal(); }
  };
  Fd fd_;
  std::optional<std::stop_callback<Signal>> callback_;
};

}  // namespace tandem::posix
