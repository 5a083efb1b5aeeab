#include "common/posix/process_launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <map>
#include <optional>

#include "common/error.h"
#include "common/posix/fd.h"
#include "common/posix/stop_fd.h"
#include "common/posix/unix_socket.h"
#include "common/process/line_splitter.h"

extern char** environ;

namespace tandem::posix {
namespace {

struct Pipe {
  Fd read;
  Fd write;
};

Pipe make_pipe(const std::string& what) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno("pipe2(" + what + ")");
  return {Fd(fds[0]), Fd(fds[1])};
}

// argv and envp as exec wants them, built before fork (the child may only make safe calls).
struct ExecImage {
  std::vector<std::string> argv_storage;
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;

  explicit ExecImage(const ProcessSpec& spec) : argv_storage(spec.argv) {
    std::map<std::string, std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string entry = *e;
      const auto eq = entry.find('=');
      if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    for (const auto& [name, value] : spec.env) env[name] = value;
    for (const auto& [name, value] : env) env_storage.push_back(name + "=" + value);
    for (auto& a : argv_storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env_storage) envp.push_back(e.data());
    envp.push_back(nullptr);
  }
};

// Only async-signal-safe calls from here on: the trainer has other threads.
[[noreturn]] void report_and_exit(int report, int error) {
  [[maybe_unused]] ssize_t n = ::write(report, &error, sizeof error);
  ::_exit(127);
}

[[noreturn]] void child(const ProcessSpec& spec, ExecImage& image, int out, int err, int report) {
  auto fail = [report](int error) { report_and_exit(report, error); };
  ::setpgid(0, 0);
  const int null = ::open("/dev/null", O_RDONLY);
  if (null < 0) fail(errno);
  if (::dup2(null, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) fail(errno);
  if (!spec.working_dir.empty() && ::chdir(spec.working_dir.c_str()) != 0) fail(errno);
  ::execvpe(image.argv[0], image.argv.data(), image.envp.data());
  report_and_exit(report, errno);
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace

ProcessExit SpawnLauncher::run(const ProcessSpec& spec, const LineCallback& on_line,
                               std::stop_token stop) {
  if (spec.argv.empty() || spec.argv[0].empty()) throw Error("a command job needs a program");
  const std::string program = spec.argv[0];
  ExecImage image(spec);
  Pipe out = make_pipe("stdout of " + program);
  Pipe err = make_pipe("stderr of " + program);
  Pipe report = make_pipe("exec report of " + program);
  const pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork() for " + program);
  if (pid == 0) child(spec, image, out.write.get(), err.write.get(), report.write.get());
  ::setpgid(pid, pid);  // also here, so the group exists whoever runs first
  out.write.reset();
  err.write.reset();
  report.write.reset();

  int exec_error = 0;
  ssize_t got = 0;
  do {
    got = ::read(report.read.get(), &exec_error, sizeof exec_error);
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof exec_error)) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    throw Error("cannot start '" + program + "'" +
                (spec.working_dir.empty() ? "" : " in " + spec.working_dir) + ": " +
                errno_text(exec_error));
  }

  Fd process(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!process) {
    ::kill(-pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    throw_errno("pidfd_open(" + std::to_string(pid) + ")");
  }
  const StopFd stop_fd(stop);
  LineSplitter out_lines([&](std::string_view line) { on_line(Stream::out, line); });
  LineSplitter err_lines([&](std::string_view line) { on_line(Stream::err, line); });
  ProcessExit result;
  std::optional<int> status;
  std::optional<Clock::time_point> kill_at;
  auto reap = [&] {
    int s = 0;
    while (::waitpid(pid, &s, 0) < 0 && errno == EINTR) {
    }
    status = s;
    ::kill(-pid, SIGKILL);  // whatever it left running in its group
  };
  try {
    bool out_open = true;
    bool err_open = true;
    while (out_open || err_open || !status) {
      pollfd fds[4] = {{out_open ? out.read.get() : -1, POLLIN, 0},
                       {err_open ? err.read.get() : -1, POLLIN, 0},
                       {status ? -1 : process.get(), POLLIN, 0},
                       {result.stopped ? -1 : stop_fd.get(), POLLIN, 0}};
      int timeout = -1;
      if (kill_at) {
        timeout = static_cast<int>(std::max<long long>(
            0, std::chrono::ceil<std::chrono::milliseconds>(*kill_at - Clock::now()).count()));
      }
      const int n = ::poll(fds, 4, timeout);
      if (n < 0 && errno != EINTR) throw_errno("poll() on " + program);
      if (n == 0 && kill_at) {
        ::kill(-pid, SIGKILL);
        kill_at.reset();
      }
      if (n <= 0) continue;
      if (fds[3].revents != 0) {
        result.stopped = true;
        ::kill(-pid, SIGTERM);
        kill_at = Clock::now() + end_timeout_;
      }
      if (fds[2].revents != 0) {
        reap();
        kill_at.reset();
      }
      for (int i = 0; i < 2; ++i) {
        if (fds[i].revents == 0) continue;
        char buffer[8192];
        const ssize_t r = ::read(fds[i].fd, buffer, sizeof buffer);
        if (r > 0) {
          (i == 0 ? out_lines : err_lines)
              .feed(std::string_view(buffer, static_cast<std::size_t>(r)));
        } else if (r == 0 || errno != EINTR) {
          (i == 0 ? out_lines : err_lines).finish();
          (i == 0 ? out_open : err_open) = false;
        }
      }
    }
  } catch (...) {
    if (!status) {
      ::kill(-pid, SIGKILL);
      reap();
    }
    throw;
  }
  result.exit_code = exit_code_of(*status);
  return result;
}

}  // namespace tandem::posix
