// tandem-fake-service.exe: a service for scm_runner_test, run by the real (Wine) SCM or with
// --console. It reports START_PENDING twice with wait hints, records its state under
// HKLM\SOFTWARE\TandemTest\<name> (State, Pid, StartArgs), waits for a stop and exits as told:
//   --name N          service name and registry key (required)
//   --exit-code K     return K after a stop (default 0)
//   --fail-start K    return K before ever reporting RUNNING
//   --throw           throw after a stop instead of returning
//   --log-dir D       log file folder (default: none)
//   --console         run in the foreground
#include <windows.h>

#include <chrono>
#include <exception>
#include <iostream>
#include <optional>
#include <string>

#include "common/error.h"
#include "common/log.h"
#include "common/win32/registry.h"
#include "common/win32/scm_runner.h"
#include "common/win32/strings.h"

namespace {

using namespace std::chrono_literals;
using tandem::win32::narrow;
using tandem::win32::RegistryKey;

struct Args {
  std::string name;
  int exit_code = 0;
  std::optional<int> fail_start;
  bool throw_on_stop = false;
  std::string log_dir;
};

Args parse(int argc, wchar_t** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = narrow(argv[i]);
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw tandem::InputError("command line", arg + " needs a value");
      return narrow(argv[++i]);
    };
    if (arg == "--name") {
      args.name = value();
    } else if (arg == "--exit-code") {
      args.exit_code = std::stoi(value());
    } else if (arg == "--fail-start") {
      args.fail_start = std::stoi(value());
    } else if (arg == "--throw") {
      args.throw_on_stop = true;
    } else if (arg == "--log-dir") {
      args.log_dir = value();
    } else if (arg != "--console") {
      throw tandem::InputError("command line", "unknown argument " + arg);
    }
  }
  if (args.name.empty()) throw tandem::InputError("command line", "--name is required");
  return args;
}

int run(int argc, wchar_t** argv) {
  const Args args = parse(argc, argv);
  tandem::win32::ServiceOptions options;
  options.console = tandem::win32::console_requested(argc, argv);
  tandem::log::Options log_options;
  log_options.console = options.console;
  log_options.level = tandem::log::Level::debug;
  if (!args.log_dir.empty()) {
    log_options.directory = args.log_dir;
    log_options.file_stem = args.name;
  }
  tandem::log::init(log_options);

  const std::string key_path = "SOFTWARE\\TandemTest\\" + args.name;
  options.on_start_arguments = [&](const std::vector<std::string>& start_args) {
    std::string joined;
    for (const auto& a : start_args) joined += (joined.empty() ? "" : "|") + a;
    RegistryKey::create(HKEY_LOCAL_MACHINE, key_path).set_string("StartArgs", joined);
  };
  const tandem::ServiceBody body = [&](tandem::ServiceStatus& status, tandem::StopSignal& stop) {
    RegistryKey key = RegistryKey::create(HKEY_LOCAL_MACHINE, key_path);
    status.starting(1500ms);
    key.set_string("State", "starting");
    if (args.fail_start) return *args.fail_start;
    status.starting(2500ms);
    key.set_dword("Pid", GetCurrentProcessId());
    key.set_string("State", "running");
    status.running();
    // Bounded so a test that dies before stopping it leaves no process behind for long.
    if (!stop.wait_for(5min)) {
      TLOG(error) << args.name << ": no stop within 5 minutes";
      return 99;
    }
    status.stopping(2000ms);
    key.set_string("State", "stopped");
    if (args.throw_on_stop) throw tandem::Error("failing on stop, as --throw asked");
    return args.exit_code;
  };
  return tandem::win32::run_service(tandem::win32::widen(args.name), body, options);
}

}  // namespace

int wmain(int argc, wchar_t** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    TLOG(error) << e.what();
    std::cerr << e.what() << "\n";
    return 2;
  }
}
