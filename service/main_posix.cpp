// tandem-llm: TandemLlm on Linux, the same body as the Windows service. systemd runs it as a
// Type=notify unit (installer/linux/tandem-llm.service); by hand it runs in the foreground.
//   tandem-llm [--config FILE]        (default /etc/tandem/llm-server.json)
// SIGTERM or SIGINT stop it cleanly; exit codes are service/exit_codes.h, as on Windows.
#include <cstdio>
#include <string>

#include "common/console_runner.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/posix/dir_watch.h"
#include "common/posix/endpoint_publisher.h"
#include "common/posix/file_in_use.h"
#include "common/posix/runtime_dir.h"
#include "common/posix/systemd_notify.h"
#include "service/exit_codes.h"
#include "service/llm_service.h"

int main(int argc, char** argv) {
  using namespace tandem;
  llm::ServiceOptions options;
  options.config_file = paths::llm_server_config();
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      options.config_file = argv[++i];
    } else {
      std::fprintf(stderr, "tandem-llm: unknown argument %s\nusage: tandem-llm [--config FILE]\n",
                   arg.c_str());
      return llm::kExitBadConfig;
    }
  }
  const auto runtime = posix::runtime_dir();
  options.default_model = paths::bundled_model();
  options.pipe_name = (runtime / posix::kLlmSocket).string();
  options.make_publisher = [runtime](const discovery::Endpoint& identity) {
    return std::make_unique<posix::EndpointPublisher>(runtime, identity);
  };
  options.models_dir = paths::models_dir();
  options.still_written = posix::open_for_writing;
  options.make_watch = [](const std::filesystem::path& folder) {
    return std::make_unique<posix::DirWatch>(folder);
  };

  log::Options log_options;
  log_options.directory = paths::logs_dir();
  log_options.file_stem = "tandem-llm";
  log_options.console = true;  // stderr: the journal under systemd
  log::init_or_fall_back(log_options);
  posix::SystemdStatus status("TandemLlm");
  const int code = run_in_console(
      [&](ServiceStatus& s, StopSignal& stop) { return llm::run_llm_service(s, stop, options); },
      "TandemLlm", &status);
  log::shutdown();
  return code;
}
