// tandem-llm.exe: the TandemLlm service, or with --console the same server in the foreground.
//   tandem-llm.exe [--console] [--config FILE]
#include <windows.h>

#include <cstdio>
#include <string>

#include "common/discovery/endpoint.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/service_names.h"
#include "common/win32/endpoint_publisher.h"
#include "common/win32/file_in_use.h"
#include "common/win32/folder_watch.h"
#include "common/win32/registry_publication.h"
#include "common/win32/scm_runner.h"
#include "service/llm_service.h"

int wmain(int argc, wchar_t** argv) {
  using namespace tandem;
  win32::ServiceOptions host;
  host.console = win32::console_requested(argc, argv);
  host.initial_start_hint = std::chrono::milliseconds(10000);

  llm::ServiceOptions options;
  options.config_file = paths::llm_server_config();
  for (int i = 1; i < argc; ++i) {
    std::wstring arg = argv[i];
    if (arg == L"--config" && i + 1 < argc) {
      options.config_file = argv[++i];
    } else if (arg != L"--console") {
      std::fwprintf(stderr,
                    L"tandem-llm: unknown argument %ls\nusage: tandem-llm.exe [--console] "
                    L"[--config FILE]\n",
                    arg.c_str());
      return 2;
    }
  }
  options.default_model = paths::bundled_model();
  options.pipe_name = "\\\\.\\pipe\\tandem-llm";
  options.make_publisher = [](const discovery::Endpoint& identity) {
    return std::make_unique<win32::EndpointPublisher>(win32::kLlmServerKey, identity,
                                                      kLlmServiceName);
  };
  options.models_dir = paths::models_dir();
  options.still_written = win32::open_for_writing;
  options.make_watch = [](const std::filesystem::path& folder) {
    // A folder not made yet: its nearest existing parent, which sees it made.
    std::filesystem::path at = folder;
    std::error_code ec;
    while (!std::filesystem::is_directory(at, ec) && at.has_relative_path()) at = at.parent_path();
    return std::make_unique<win32::ChangeNotificationWatch>(at);
  };

  log::Options log_options;
  log_options.directory = paths::logs_dir();
  log_options.file_stem = "tandem-llm";
  log_options.console = host.console;
  log_options.event_source = kLlmServiceName;
  log::init_or_fall_back(log_options);
  int code = win32::run_service(
      L"TandemLlm",
      [&](ServiceStatus& status, StopSignal& stop) {
        return llm::run_llm_service(status, stop, options);
      },
      host);
  log::shutdown();
  return code;
}
