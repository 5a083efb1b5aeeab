// Forked helper processes for the POSIX tests: one that is already dead (a stale PID), and a
// foreign listener on a socket path (a squatter, or a stranger behind a stale publication).
// The children make only system calls, as a fork of a threaded process must.
#pragma once

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "common/error.h"
#include "common/posix/fd.h"
#include "common/posix/socket_address.h"

namespace tandem::testing {

// The PID of a process that has exited and been reaped.
inline pid_t dead_pid() {
  const pid_t pid = ::fork();
  if (pid < 0) posix::throw_errno("fork()");
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

// A process of its own listening on `path` (SOCK_SEQPACKET) that answers every message with
// `answer`. Killed and reaped by the destructor.
class ForeignListener {
 public:
  ForeignListener(const std::string& path, std::string answer) : answer_(std::move(answer)) {
    const posix::SocketAddress address(path);
    int ready[2];
    if (::pipe(ready) != 0) posix::throw_errno("pipe()");
    pid_ = ::fork();
    if (pid_ < 0) posix::throw_errno("fork()");
    if (pid_ == 0) {
      ::close(ready[0]);
      const int s = ::socket(AF_UNIX, SOCK_SEQPACKET, 0);
      if (s < 0 || ::bind(s, address.get(), address.size()) != 0 || ::listen(s, 8) != 0) {
        ::_exit(1);
      }
      const char byte = 1;
      if (::write(ready[1], &byte, 1) != 1) ::_exit(1);
      for (;;) {
        const int c = ::accept(s, nullptr, nullptr);
        if (c < 0) continue;
        char buffer[65536];
        while (::recv(c, buffer, sizeof buffer, 0) > 0) {
          if (::send(c, answer_.data(), answer_.size(), MSG_NOSIGNAL) < 0) break;
        }
        ::close(c);
      }
    }
    ::close(ready[1]);
    char byte = 0;
    const ssize_t n = ::read(ready[0], &byte, 1);  // EOF if the child failed: it never blocks
    ::close(ready[0]);
    if (n != 1) {
      reap();
      throw Error("the foreign listener could not listen on " + path);
    }
  }
  ForeignListener(const ForeignListener&) = delete;
  ForeignListener& operator=(const ForeignListener&) = delete;
  ~ForeignListener() { reap(); }

  pid_t pid() const { return pid_; }

 private:
  void reap() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  std::string answer_;
  pid_t pid_ = -1;
};

}  // namespace tandem::testing
