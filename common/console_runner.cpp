#include "common/console_runner.h"

#include <exception>

#include "common/error.h"
#include "common/log.h"

#ifndef _WIN32
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>
#endif

namespace tandem {

void LoggingStatus::starting(std::chrono::milliseconds wait_hint) {
  TLOG(info) << name_ << ": starting (next step within " << wait_hint.count() << " ms)";
}

void LoggingStatus::running() {
  TLOG(info) << name_ << ": running";
}

void LoggingStatus::stopping(std::chrono::milliseconds wait_hint) {
  TLOG(info) << name_ << ": stopping (next step within " << wait_hint.count() << " ms)";
}

int run_body(const ServiceBody& body, ServiceStatus& status, StopSignal& stop,
             const std::string& name) {
  try {
    return body(status, stop);
  } catch (const std::exception& e) {
    TLOG(error) << name << " failed: " << e.what();
  } catch (...) {
    TLOG(error) << name << " failed with an exception that is not a std::exception";
  }
  return kExitBodyThrew;
}

#ifndef _WIN32
namespace {

// Written only by the signal handler, which may use nothing but async-signal-safe calls.
std::atomic<int> g_signal_pipe{-1};
std::atomic<bool> g_console_run_active{false};

extern "C" void on_stop_signal(int signo) {
  const int saved_errno = errno;
  const int fd = g_signal_pipe.load();
  if (fd >= 0) {
    const auto byte = static_cast<unsigned char>(signo);
    [[maybe_unused]] ssize_t n = ::write(fd, &byte, 1);
  }
  errno = saved_errno;
}

class Pipe {
 public:
  Pipe() {
    if (::pipe(fds_) != 0) throw Error(std::string("pipe() failed: ") + std::strerror(errno));
    for (int fd : fds_) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    // A full pipe must never block the signal handler; dropping a byte then is harmless.
    ::fcntl(fds_[1], F_SETFL, ::fcntl(fds_[1], F_GETFL) | O_NONBLOCK);
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  ~Pipe() {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  int read_end() const { return fds_[0]; }
  int write_end() const { return fds_[1]; }

 private:
  int fds_[2] = {-1, -1};
};

const char* signal_name(int signo) {
  switch (signo) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    default:
      return "a signal";
  }
}

// Installs the handler for SIGINT and SIGTERM for its lifetime, then restores what was there.
class StopSignalHandlers {
 public:
  explicit StopSignalHandlers(int pipe_write_end) {
    g_signal_pipe.store(pipe_write_end);
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    if (::sigaction(SIGINT, &action, &old_int_) != 0 ||
        ::sigaction(SIGTERM, &action, &old_term_) != 0) {
      const int err = errno;
      restore();
      throw Error(std::string("sigaction(SIGINT/SIGTERM) failed: ") + std::strerror(err));
    }
  }
  StopSignalHandlers(const StopSignalHandlers&) = delete;
  StopSignalHandlers& operator=(const StopSignalHandlers&) = delete;
  ~StopSignalHandlers() { restore(); }

 private:
  void restore() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
    g_signal_pipe.store(-1);
  }
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

// Turns bytes from the signal pipe into StopSignal::request() until `quit` becomes readable.
void watch_signals(int signals, int quit, StopSignal& stop, const std::string& name) {
  pollfd fds[2] = {{signals, POLLIN, 0}, {quit, POLLIN, 0}};
  for (;;) {
    fds[0].revents = fds[1].revents = 0;
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      TLOG(error) << name << ": poll() on the signal pipe failed: " << std::strerror(errno)
                  << "; stopping";
      stop.request();
      return;
    }
    if (fds[1].revents != 0) return;
    if (fds[0].revents != 0) {
      unsigned char signo = 0;
      if (::read(signals, &signo, 1) == 1) {
        if (stop.requested()) {
          TLOG(warning) << name << ": " << signal_name(signo) << " again; already stopping";
        } else {
          TLOG(info) << name << ": " << signal_name(signo) << " received; stopping";
          stop.request();
        }
      }
    }
  }
}

}  // namespace

int run_in_console(const ServiceBody& body, const std::string& name, ServiceStatus* status) {
  if (g_console_run_active.exchange(true)) {
    throw Error("run_in_console(" + name + "): another console run is active in this process");
  }
  struct ActiveFlag {
    ~ActiveFlag() { g_console_run_active.store(false); }
  } active_flag;

  Pipe signals;
  Pipe quit;
  StopSignal stop;
  StopSignalHandlers handlers(signals.write_end());
  std::thread watcher(watch_signals, signals.read_end(), quit.read_end(), std::ref(stop),
                      std::cref(name));
  LoggingStatus logging(name);
  const int code = run_body(body, status != nullptr ? *status : logging, stop, name);
  const unsigned char byte = 0;
  if (::write(quit.write_end(), &byte, 1) != 1) {
    // Unreachable with an empty pipe; without the byte the join below would never return.
    std::terminate();
  }
  watcher.join();
  TLOG(info) << name << ": exited with code " << code;
  return code;
}
#endif

}  // namespace tandem
