// The route table below is the whole command set, on every platform; README "tandemctl"
// documents it.
#include <cstdio>
#include <string>
#include <vector>

#include "common/error.h"
#include "ctl/commands.h"

namespace tandem::ctl {
namespace {

// Where the platform has no installer commands, they say what to use instead.
int installer(const std::function<int(Args&)>& command, Args& args, Platform& p) {
  if (command) return command(args);
  std::fprintf(p.err, "tandemctl: %s: %s\n", args.command().c_str(), p.no_installer.c_str());
  return kUsage;
}

int install_route(Args& args, Platform& p) {
  return installer(p.install, args, p);
}
int uninstall_route(Args& args, Platform& p) {
  return installer(p.uninstall, args, p);
}
int configure_services_route(Args& args, Platform& p) {
  return installer(p.configure_services, args, p);
}

struct Command {
  const char* name;
  const char* usage;
  int (*run)(Args&, Platform&);
};

constexpr Command kCommands[] = {
    {"status", "status [--json]", status_command},
    {"url", "url", url_command},
    {"wait", "wait [--timeout SECONDS]", wait_command},
    {"models", "models [--json] | models load|unload NAME", models_command},
    {"start", "start [llm|trainer|all] [--timeout SECONDS]", start_command},
    {"stop", "stop [llm|trainer|all] [--timeout SECONDS]", stop_command},
    {"restart", "restart [llm|trainer|all] [--timeout SECONDS]", restart_command},
    {"submit", "submit JOB.json [--name NAME]", submit_command},
    {"jobs", "jobs [--json] [--wait NAME [--timeout SECONDS]]", jobs_command},
    {"logs", "logs [llm|trainer] [--lines N] [--follow]", logs_command},
    {"install",
     "install [--dir DIR] [--account auto|virtual|localsystem] [--no-start] [--print-sc]",
     install_route},
    {"uninstall", "uninstall [--purge] [--print-sc]", uninstall_route},
    {"configure-services",
     "configure-services [--account auto|virtual|localsystem] | configure-services --remove "
     "[--purge]",
     configure_services_route},
};

void print_usage(FILE* to) {
  std::fprintf(to, "usage:\n");
  for (const auto& c : kCommands) std::fprintf(to, "  tandemctl %s\n", c.usage);
}

}  // namespace

int run_tandemctl(std::vector<std::string> words, Platform& p) {
  if (words.empty() || words[0] == "help" || words[0] == "--help" || words[0] == "-h") {
    print_usage(words.empty() ? p.err : p.out);
    return words.empty() ? kUsage : kOk;
  }
  const std::string name = words[0];
  words.erase(words.begin());
  for (const auto& command : kCommands) {
    if (name != command.name) continue;
    try {
      Args args(name, words);
      return command.run(args, p);
    } catch (const UsageError& e) {
      std::fprintf(p.err, "tandemctl: %s\nusage: tandemctl %s\n", e.what(), command.usage);
      return kUsage;
    } catch (const SystemError& e) {
      std::fprintf(p.err, "tandemctl: %s\n", e.what());
      if (e.access_denied()) {
        std::fprintf(p.err, "tandemctl: %s\n", p.elevate_hint.c_str());
        return kDenied;
      }
      return kFailed;
    } catch (const std::exception& e) {
      std::fprintf(p.err, "tandemctl: %s\n", e.what());
      return kFailed;
    }
  }
  std::fprintf(p.err, "tandemctl: unknown command '%s'\n", name.c_str());
  print_usage(p.err);
  return kUsage;
}

}  // namespace tandem::ctl
