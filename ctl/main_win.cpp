// tandemctl: what scripts and people use to install, control and ask about Tandem.
// The route table below is the whole command set; README "tandemctl" documents it.
#include <windows.h>

#include <cstdio>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/log.h"
#include "common/win32/error.h"
#include "common/win32/strings.h"
#include "ctl/commands.h"

namespace {

using namespace tandem;
using namespace tandem::ctl;

struct Command {
  const char* name;
  const char* usage;
  int (*run)(Args&);
};

constexpr Command kCommands[] = {
    {"status", "status [--json]", status_command},
    {"url", "url", url_command},
    {"wait", "wait [--timeout SECONDS]", wait_command},
    {"start", "start [llm|trainer|all] [--timeout SECONDS]", start_command},
    {"stop", "stop [llm|trainer|all] [--timeout SECONDS]", stop_command},
    {"restart", "restart [llm|trainer|all] [--timeout SECONDS]", restart_command},
    {"submit", "submit JOB.json [--name NAME]", submit_command},
    {"jobs", "jobs [--json] [--wait NAME [--timeout SECONDS]]", jobs_command},
    {"logs", "logs [llm|trainer] [--lines N] [--follow]", logs_command},
    {"install",
     "install [--dir DIR] [--account auto|virtual|localsystem] [--no-start] [--print-sc]",
     install_command},
    {"uninstall", "uninstall [--purge] [--print-sc]", uninstall_command},
    {"configure-services",
     "configure-services [--account auto|virtual|localsystem] | configure-services --remove "
     "[--purge]",
     configure_services_command},
};

void print_usage(FILE* to) {
  std::fprintf(to, "usage:\n");
  for (const auto& c : kCommands) std::fprintf(to, "  tandemctl %s\n", c.usage);
}

}  // namespace

int wmain(int argc, wchar_t** argv) {
  // Progress and reasons go to stderr, so stdout holds only the answer (`url`, `wait`).
  log::Options log_options;
  log_options.console = true;
  log::init(log_options);
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) words.push_back(win32::narrow(argv[i]));
  if (words.empty() || words[0] == "help" || words[0] == "--help" || words[0] == "-h") {
    print_usage(words.empty() ? stderr : stdout);
    return words.empty() ? kUsage : kOk;
  }
  const std::string name = words[0];
  words.erase(words.begin());
  for (const auto& command : kCommands) {
    if (name != command.name) continue;
    try {
      Args args(name, words);
      return command.run(args);
    } catch (const UsageError& e) {
      std::fprintf(stderr, "tandemctl: %s\nusage: tandemctl %s\n", e.what(), command.usage);
      return kUsage;
    } catch (const win32::Win32Error& e) {
      std::fprintf(stderr, "tandemctl: %s\n", e.what());
      if (e.code() == ERROR_ACCESS_DENIED) {
        std::fprintf(stderr, "tandemctl: run it from an elevated (administrator) prompt\n");
        return kDenied;
      }
      return kFailed;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "tandemctl: %s\n", e.what());
      return kFailed;
    }
  }
  std::fprintf(stderr, "tandemctl: unknown command '%s'\n", name.c_str());
  print_usage(stderr);
  return kUsage;
}
