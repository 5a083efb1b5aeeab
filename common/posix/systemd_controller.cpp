#include "common/posix/systemd_controller.h"

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <thread>

#include "common/files.h"

namespace tandem::posix {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How long systemctl may take to answer a question (it only asks systemd over D-Bus).
constexpr milliseconds kQueryTimeout{30'000};

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) {
    if (line.empty()) continue;
    text += (text.empty() ? "" : " ") + line;
  }
  return text.empty() ? "no message" : text;
}

// polkit's refusal as systemctl reports it (it asks no password: --no-ask-password).
bool denied(const std::vector<std::string>& lines) {
  const std::string text = lower(joined(lines));
  return text.find("access denied") != std::string::npos ||
         text.find("authentication required") != std::string::npos ||
         text.find("permission denied") != std::string::npos;
}

std::uint32_t number(const std::string& text) {
  std::uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return 0;
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
  }
  return value;
}

milliseconds left_until(Clock::time_point deadline) {
  return std::max(milliseconds(0),
                  std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
}

class SystemdController final : public ServiceController {
 public:
  SystemdController(SystemdServiceManager& manager, std::string name)
      : manager_(manager), name_(std::move(name)), unit_(name_ + ".service") {}

  const std::string& name() const override { return name_; }

  ServiceInfo query() override { return show().info; }

  UnitState show() {
    const auto r = run({"show", unit_,
                        "--property=LoadState,ActiveState,SubState,MainPID,"
                        "ExecMainStatus"},
                       kQueryTimeout);
    if (r.timed_out || r.exit_code != 0) fail("show", r);
    return parse_unit_state(r.output);
  }

  void start(milliseconds timeout) override {
    // systemd starts what the unit Requires= first; the call returns once the job is done.
    const auto r = run({"start", unit_}, timeout);
    if (r.timed_out || r.exit_code == 0) return;  // wait_for_state says how far it got
    if (denied(r.output)) fail("start", r);
    // The unit itself failed: wait_for_state reports it with its exit code. Anything else (a
    // dependency that failed) is said here.
    if (query().state == ServiceRunState::stopped && !dependency_failed(r.output)) return;
    throw Error("systemctl start " + unit_ + ": " + joined(r.output));
  }

  void stop() override {
    // Queued only, as the SCM's stop is: wait_for_state joins the job, within its timeout.
    const auto r = run({"stop", "--no-block", unit_}, kQueryTimeout);
    if (r.timed_out || r.exit_code != 0) fail("stop", r);
  }

  // systemd has no pause, so no unit is ever paused.
  void resume() override {}

  ServiceInfo wait_for_state(ServiceRunState target, milliseconds timeout) override {
    const auto deadline = Clock::now() + timeout;
    const std::string what =
        "waiting for service " + name_ + " to be " + std::string(to_string(target));
    ServiceInfo info = query();
    for (int joins = 0;; ++joins) {
      if (info.state == target) return info;
      if (info.state == ServiceRunState::stopped) {
        throw Error(what + ": it stopped (exit code " + std::to_string(info.exit_code) + ")");
      }
      // The verb of the job systemd runs (or, for a stop, was asked to run) joins it instead of
      // queueing another.
      const char* verb =
          target == ServiceRunState::stopped || info.state == ServiceRunState::stop_pending ? "stop"
          : info.state == ServiceRunState::start_pending ? "start"
                                                         : nullptr;
      if (left_until(deadline).count() == 0 || verb == nullptr || joins == kMaxJoins) {
        throw Error(what + ": still " + std::string(to_string(info.state)) + " after " +
                    std::to_string(timeout.count()) + " ms");
      }
      const auto r = run({verb, unit_}, left_until(deadline));
      if (!r.timed_out && r.exit_code != 0 && denied(r.output)) fail(verb, r);
      info = query();
    }
  }

 private:
  static constexpr int kMaxJoins = 8;

  static bool dependency_failed(const std::vector<std::string>& lines) {
    return lower(joined(lines)).find("dependency") != std::string::npos;
  }

  SystemdServiceManager::Result run(std::vector<std::string> arguments, milliseconds timeout) {
    arguments.insert(arguments.begin(), "--no-ask-password");
    return manager_.systemctl(arguments, timeout);
  }

  [[noreturn]] void fail(const std::string& verb, const SystemdServiceManager::Result& r) {
    throw SystemError(
        "systemctl " + verb + " " + unit_ + " failed: " +
            (r.timed_out ? std::string("no answer in time")
                         : joined(r.output) + " (exit code " + std::to_string(r.exit_code) + ")"),
        denied(r.output));
  }

  SystemdServiceManager& manager_;
  std::string name_;
  std::string unit_;
};

}  // namespace

UnitState parse_unit_state(const std::vector<std::string>& lines) {
  std::string load, active, sub, pid, status;
  for (const auto& line : lines) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq);
    const std::string value = line.substr(eq + 1);
    if (key == "LoadState") load = value;
    if (key == "ActiveState") active = value;
    if (key == "SubState") sub = value;
    if (key == "MainPID") pid = value;
    if (key == "ExecMainStatus") status = value;
  }
  UnitState unit;
  unit.installed = !load.empty() && load != "not-found";
  ServiceRunState state = ServiceRunState::stopped;
  if (active == "active" || active == "reloading") state = ServiceRunState::running;
  if (active == "activating" && sub != "auto-restart") state = ServiceRunState::start_pending;
  if (active == "deactivating") state = ServiceRunState::stop_pending;
  unit.info.state = state;
  if (state != ServiceRunState::stopped) unit.info.pid = number(pid);
  const bool failed = active == "failed" || sub == "auto-restart";
  if (state == ServiceRunState::stopped && failed) unit.info.exit_code = number(status);
  return unit;
}

SystemdServiceManager::SystemdServiceManager(std::unique_ptr<ProcessLauncher> launcher,
                                             const std::filesystem::path& booted_marker,
                                             std::string systemctl)
    : launcher_(std::move(launcher)), systemctl_(std::move(systemctl)) {
  std::error_code ignored;
  if (!std::filesystem::is_directory(booted_marker, ignored)) {
    throw ServiceManagerUnavailable("systemd is not running on this machine (no " +
                                    path_utf8(booted_marker) + ")");
  }
}

std::unique_ptr<ServiceController> SystemdServiceManager::open(const std::string& name, Access) {
  // systemctl asks polkit per call, so opening asks for no rights.
  auto unit = std::make_unique<SystemdController>(*this, name);
  if (!unit->show().installed) return nullptr;
  return unit;
}

SystemdServiceManager::Result SystemdServiceManager::systemctl(
    const std::vector<std::string>& arguments, milliseconds timeout) {
  ProcessSpec spec;
  spec.argv = {systemctl_};
  spec.argv.insert(spec.argv.end(), arguments.begin(), arguments.end());
  Result result;
  std::stop_source stop;
  std::mutex mutex;
  std::condition_variable_any never;
  {
    // Ends systemctl at the deadline; the job it waited on goes on in systemd.
    std::jthread timer([&](std::stop_token done) {
      std::unique_lock lock(mutex);
      if (!never.wait_for(lock, done, timeout, [] { return false; }) && !done.stop_requested()) {
        result.timed_out = true;
        stop.request_stop();
      }
    });
    const auto exit = launcher_->run(
        spec,
        [&](Stream, std::string_view line) {
          std::lock_guard lock(mutex);
          result.output.emplace_back(line);
        },
        stop.get_token());
    timer.request_stop();
    timer.join();
    result.exit_code = exit.exit_code;
  }
  return result;
}

}  // namespace tandem::posix
