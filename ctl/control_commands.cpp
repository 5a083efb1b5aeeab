// start, stop, restart: the two services through the SCM, in dependency order (TandemTrainer
// depends on TandemLlm), each waited for on real state changes within --timeout.
#include <windows.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/files.h"
#include "common/paths.h"
#include "common/service_names.h"
#include "common/win32/error.h"
#include "common/win32/scm.h"
#include "ctl/commands.h"

namespace tandem::ctl {
namespace {

using std::chrono::milliseconds;
using win32::ServiceState;
using Clock = std::chrono::steady_clock;

constexpr const char* kLlm = kLlmServiceName;
constexpr const char* kTrainer = kTrainerServiceName;
constexpr DWORD kAccess = SERVICE_QUERY_STATUS | SERVICE_QUERY_CONFIG | SERVICE_START |
                          SERVICE_STOP | SERVICE_PAUSE_CONTINUE;

struct Control {
  win32::ScManager scm = win32::ScManager::open();
  Clock::time_point deadline;

  milliseconds left() const {
    return std::max(milliseconds(0),
                    std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
  }
};

// A failed start or stop: main prints the message; the exit code says whether it ran out of
// time (1) or the service failed (3).
class ControlFailed : public Error {
 public:
  ControlFailed(const std::string& what, int code) : Error(what), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

std::string log_file(const std::string& name) {
  return path_utf8(paths::logs_dir() / (name == kLlm ? "tandem-llm.log" : "tandem-trainer.log"));
}

win32::Service open(const Control& c, const std::string& name) {
  auto service = win32::Service::try_open(c.scm, name, kAccess);
  if (!service) {
    throw Error(name + " is not installed: run `tandemctl install` or the MSI");
  }
  return std::move(*service);
}

void print(const std::string& name, const win32::ServiceStatusInfo& s, const char* note = "") {
  std::string line = name;
  line.resize(std::max<std::size_t>(line.size() + 1, 15), ' ');
  line += std::string(win32::to_string(s.state));
  if (s.pid != 0 && s.state != ServiceState::stopped)
    line += " (pid " + std::to_string(s.pid) + ")";
  if (s.state == ServiceState::stopped && s.win32_exit_code != 0 &&
      s.win32_exit_code != ERROR_SERVICE_NEVER_STARTED) {
    line += " (exit code " +
            std::to_string(s.win32_exit_code == ERROR_SERVICE_SPECIFIC_ERROR ? s.service_exit_code
                                                                             : s.win32_exit_code) +
            ")";
  }
  std::printf("%s%s\n", line.c_str(), note);
  std::fflush(stdout);
}

// Waits for `target`; a service that ends up elsewhere (stopped while starting) or runs out of
// time becomes ControlFailed with the service's log named.
win32::ServiceStatusInfo wait(const Control& c, const win32::Service& service,
                              ServiceState target) {
  try {
    return service.wait_for_state(target, c.left());
  } catch (const win32::Win32Error&) {
    throw;
  } catch (const Error& e) {
    const bool stopped = service.query().state == ServiceState::stopped;
    throw ControlFailed(std::string(e.what()) + "\ntandemctl: see " + log_file(service.name()),
                        stopped ? kFailed : kNotReady);
  }
}

void start_one(const Control& c, const std::string& name) {
  auto service = open(c, name);
  auto status = service.query();
  if (status.state == ServiceState::running) return print(name, status, "  (already)");
  if (status.state == ServiceState::stop_pending) status = wait(c, service, ServiceState::stopped);
  if (status.state == ServiceState::paused || status.state == ServiceState::pause_pending) {
    service.resume();
  } else if (status.state == ServiceState::stopped) {
    try {
      // Wine's SCM does not start dependencies itself; Windows' would.
      service.start_with_dependencies(c.scm, c.left());
    } catch (const win32::Win32Error& e) {
      if (e.code() != ERROR_SERVICE_ALREADY_RUNNING) throw;
    } catch (const Error& e) {
      // A dependency that did not come up: its own wait said which and why.
      const bool stopped = open(c, kLlm).query().state == ServiceState::stopped;
      throw ControlFailed(std::string(e.what()) + "\ntandemctl: see " + log_file(kLlm),
                          stopped ? kFailed : kNotReady);
    }
  }
  print(name, wait(c, service, ServiceState::running));
}

void stop_one(const Control& c, const std::string& name) {
  auto service = open(c, name);
  auto status = service.query();
  if (status.state == ServiceState::stopped) return print(name, status, "  (already)");
  if (status.state != ServiceState::stop_pending) {
    try {
      service.stop();
    } catch (const win32::Win32Error& e) {
      if (e.code() != ERROR_SERVICE_NOT_ACTIVE) throw;
    }
  }
  print(name, wait(c, service, ServiceState::stopped));
}

bool installed(const Control& c, const char* name) {
  return win32::Service::try_open(c.scm, name, SERVICE_QUERY_STATUS).has_value();
}

bool running(const Control& c, const char* name) {
  auto service = win32::Service::try_open(c.scm, name, SERVICE_QUERY_STATUS);
  return service && service->query().state != ServiceState::stopped;
}

// The services a start of `target` brings up, in order: the trainer needs the server.
std::vector<std::string> to_start(Target target) {
  if (target == Target::llm) return {kLlm};
  return {kLlm, kTrainer};
}

// The services a stop of `target` takes down, in order: the SCM refuses to stop the server
// while the trainer runs (ERROR_DEPENDENT_SERVICES_RUNNING), so the trainer goes first.
std::vector<std::string> to_stop(const Control& c, Target target) {
  if (target == Target::trainer) return {kTrainer};
  if (target == Target::all) return {kTrainer, kLlm};
  if (installed(c, kTrainer) && running(c, kTrainer)) return {kTrainer, kLlm};
  return {kLlm};
}

struct Request {
  Target target;
  long seconds;
};

Request read(Args& args) {
  auto timeout = args.option("--timeout");  // options first: their values are not positionals
  auto word = args.positional();
  args.done();
  const Target target = parse_target(word);
  return {target, timeout ? parse_seconds("--timeout", *timeout) : 60};
}

template <typename F>
int run(long seconds, F&& body) {
  Control c;
  c.deadline = Clock::now() + std::chrono::seconds(seconds);
  try {
    body(c);
  } catch (const ControlFailed& e) {
    std::fprintf(stderr, "tandemctl: %s\n", e.what());
    return e.code();
  }
  return kOk;
}

}  // namespace

int start_command(Args& args) {
  const Request r = read(args);
  return run(r.seconds, [&](Control& c) {
    const auto names = to_start(r.target);
    for (const auto& name : names) open(c, name);  // all installed, before anything changes
    for (const auto& name : names) start_one(c, name);
  });
}

int stop_command(Args& args) {
  const Request r = read(args);
  return run(r.seconds, [&](Control& c) {
    const auto names = to_stop(c, r.target);
    for (const auto& name : names) open(c, name);
    for (const auto& name : names) stop_one(c, name);
  });
}

int restart_command(Args& args) {
  const Request r = read(args);
  return run(r.seconds, [&](Control& c) {
    // Restarting the server takes the trainer down with it; bring it back if it was up.
    const bool trainer_was_up =
        r.target == Target::llm && installed(c, kTrainer) && running(c, kTrainer);
    const auto stops = to_stop(c, r.target);
    const auto starts = trainer_was_up ? to_start(Target::all) : to_start(r.target);
    for (const auto& name : starts) open(c, name);
    for (const auto& name : stops) stop_one(c, name);
    c.deadline = Clock::now() + std::chrono::seconds(r.seconds);
    for (const auto& name : starts) start_one(c, name);
  });
}

}  // namespace tandem::ctl
