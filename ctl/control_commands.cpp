// start, stop, restart: the two services through the service manager, in dependency order
// (the trainer depends on the server), each waited for on real state changes within --timeout.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/files.h"
#include "ctl/commands.h"

namespace tandem::ctl {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
using Access = ServiceManager::Access;

struct Control {
  Platform& p;
  std::unique_ptr<ServiceManager> services;
  Clock::time_point deadline;

  milliseconds left() const {
    return std::max(milliseconds(0),
                    std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
  }
};

// A failed start or stop: the exit code says whether it ran out of time (1) or the service
// failed (3).
class ControlFailed : public Error {
 public:
  ControlFailed(const std::string& what, int code) : Error(what), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

std::string log_file(const Control& c, const std::string& name) {
  return path_utf8(c.p.logs_dir /
                   (name == c.p.llm_service ? "tandem-llm.log" : "tandem-trainer.log"));
}

std::unique_ptr<ServiceController> open(const Control& c, const std::string& name) {
  auto service = c.services->open(name, Access::control);
  if (!service) throw Error(name + " is not installed: " + c.p.install_hint);
  return service;
}

void print(const Control& c, const std::string& name, const ServiceInfo& s, const char* note = "") {
  std::string line = name;
  line.resize(std::max<std::size_t>(line.size() + 1, 15), ' ');
  line += std::string(to_string(s.state));
  if (s.pid != 0 && s.state != ServiceRunState::stopped) {
    line += " (pid " + std::to_string(s.pid) + ")";
  }
  if (s.state == ServiceRunState::stopped && s.exit_code != 0) {
    line += " (exit code " + std::to_string(s.exit_code) + ")";
  }
  std::fprintf(c.p.out, "%s%s\n", line.c_str(), note);
  std::fflush(c.p.out);
}

// Waits for `target`; a service that ends up elsewhere (stopped while starting) or runs out of
// time becomes ControlFailed with the service's log named.
ServiceInfo wait(const Control& c, ServiceController& service, ServiceRunState target) {
  try {
    return service.wait_for_state(target, c.left());
  } catch (const SystemError&) {
    throw;
  } catch (const Error& e) {
    const bool stopped = service.query().state == ServiceRunState::stopped;
    throw ControlFailed(std::string(e.what()) + "\ntandemctl: see " + log_file(c, service.name()),
                        stopped ? kFailed : kNotReady);
  }
}

void start_one(const Control& c, const std::string& name) {
  auto service = open(c, name);
  auto status = service->query();
  if (status.state == ServiceRunState::running) return print(c, name, status, "  (already)");
  if (status.state == ServiceRunState::stop_pending) {
    status = wait(c, *service, ServiceRunState::stopped);
  }
  if (status.state == ServiceRunState::paused || status.state == ServiceRunState::pause_pending) {
    service->resume();
  } else if (status.state == ServiceRunState::stopped) {
    try {
      service->start(c.left());
    } catch (const SystemError&) {
      throw;
    } catch (const Error& e) {
      // A dependency that did not come up: its own wait said which and why.
      const bool stopped = open(c, c.p.llm_service)->query().state == ServiceRunState::stopped;
      throw ControlFailed(
          std::string(e.what()) + "\ntandemctl: see " + log_file(c, c.p.llm_service),
          stopped ? kFailed : kNotReady);
    }
  }
  print(c, name, wait(c, *service, ServiceRunState::running));
}

void stop_one(const Control& c, const std::string& name) {
  auto service = open(c, name);
  auto status = service->query();
  if (status.state == ServiceRunState::stopped) return print(c, name, status, "  (already)");
  if (status.state != ServiceRunState::stop_pending) service->stop();
  print(c, name, wait(c, *service, ServiceRunState::stopped));
}

bool running(const Control& c, const std::string& name) {
  auto service = c.services->open(name, Access::query);
  return service && service->query().state != ServiceRunState::stopped;
}

// The services a start of `target` brings up, in order: the trainer needs the server.
std::vector<std::string> to_start(const Control& c, Target target) {
  if (target == Target::llm) return {c.p.llm_service};
  return {c.p.llm_service, c.p.trainer_service};
}

// The services a stop of `target` takes down, in order: the SCM refuses to stop the server
// while the trainer runs (ERROR_DEPENDENT_SERVICES_RUNNING), so the trainer goes first.
std::vector<std::string> to_stop(const Control& c, Target target) {
  if (target == Target::trainer) return {c.p.trainer_service};
  if (target == Target::all) return {c.p.trainer_service, c.p.llm_service};
  if (running(c, c.p.trainer_service)) return {c.p.trainer_service, c.p.llm_service};
  return {c.p.llm_service};
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
int run(Platform& p, long seconds, F&& body) {
  Control c{p, p.open_services(), Clock::now() + std::chrono::seconds(seconds)};
  try {
    body(c);
  } catch (const ControlFailed& e) {
    std::fprintf(p.err, "tandemctl: %s\n", e.what());
    return e.code();
  }
  return kOk;
}

}  // namespace

int start_command(Args& args, Platform& p) {
  const Request r = read(args);
  return run(p, r.seconds, [&](Control& c) {
    const auto names = to_start(c, r.target);
    for (const auto& name : names) open(c, name);  // all installed, before anything changes
    for (const auto& name : names) start_one(c, name);
  });
}

int stop_command(Args& args, Platform& p) {
  const Request r = read(args);
  return run(p, r.seconds, [&](Control& c) {
    const auto names = to_stop(c, r.target);
    for (const auto& name : names) open(c, name);
    for (const auto& name : names) stop_one(c, name);
  });
}

int restart_command(Args& args, Platform& p) {
  const Request r = read(args);
  return run(p, r.seconds, [&](Control& c) {
    // Restarting the server takes the trainer down with it; bring it back if it was up.
    const bool trainer_was_up = r.target == Target::llm && running(c, c.p.trainer_service);
    const auto stops = to_stop(c, r.target);
    const auto starts = trainer_was_up ? to_start(c, Target::all) : to_start(c, r.target);
    for (const auto& name : starts) open(c, name);
    for (const auto& name : stops) stop_one(c, name);
    c.deadline = Clock::now() + std::chrono::seconds(r.seconds);
    for (const auto& name : starts) start_one(c, name);
  });
}

}  // namespace tandem::ctl
