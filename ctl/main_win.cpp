// tandemctl.exe: the portable command table (command_table.cpp) over the Windows parts: the
// SCM, the registry publications, change notifications, and the installer commands.
#include <windows.h>

#include <string>
#include <vector>

#include "common/log.h"
#include "common/paths.h"
#include "common/service_names.h"
#include "common/win32/folder_watch.h"
#include "common/win32/llm_resolver.h"
#include "common/win32/registry_publication.h"
#include "common/win32/scm_controller.h"
#include "common/win32/strings.h"
#include "common/win32/trainer_registry.h"
#include "ctl/install_commands.h"
#include "ctl/platform.h"

int wmain(int argc, wchar_t** argv) {
  using namespace tandem;
  // Progress and reasons go to stderr, so stdout holds only the answer (`url`, `wait`).
  log::Options log_options;
  log_options.console = true;
  log::init(log_options);
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) words.push_back(win32::narrow(argv[i]));

  ctl::Platform p;
  p.llm_service = kLlmServiceName;
  p.trainer_service = kTrainerServiceName;
  p.open_services = [] { return std::make_unique<win32::ScmServiceManager>(); };
  p.make_resolver = [] { return std::make_unique<win32::LlmResolver>(); };
  p.read_publication = [] { return win32::read_publication(win32::kLlmServerKey); };
  p.read_trainer_status = [] { return win32::read_trainer_registry(); };
  p.make_watch = [](const std::filesystem::path& folder) {
    return std::make_unique<win32::ChangeNotificationWatch>(folder);
  };
  p.trainer_config = paths::trainer_config();
  p.llm_config = paths::llm_server_config();
  p.logs_dir = paths::logs_dir();
  p.elevate_hint = "run it from an elevated (administrator) prompt";
  p.jobs_access_hint = "writing in the jobs folder needs an elevated (administrator) prompt";
  p.install_hint = "run `tandemctl install` or the MSI";
  p.install = ctl::install_command;
  p.uninstall = ctl::uninstall_command;
  p.configure_services = ctl::configure_services_command;
  return ctl::run_tandemctl(std::move(words), p);
}
