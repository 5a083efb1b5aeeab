// tandemctl on Linux: the portable command table (command_table.cpp) over the Linux parts:
// systemd through systemctl, the runtime folder's publication and status file, inotify. The
// .deb and systemctl install the services, so the installer commands say so.
#include <string>
#include <vector>

#include "common/files.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/posix/dir_watch.h"
#include "common/posix/llm_resolver.h"
#include "common/posix/process_launcher.h"
#include "common/posix/runtime_dir.h"
#include "common/posix/runtime_file.h"
#include "common/posix/systemd_controller.h"
#include "common/trainer_status.h"
#include "ctl/platform.h"

int main(int argc, char** argv) {
  using namespace tandem;
  // Progress and reasons go to stderr, so stdout holds only the answer (`url`, `wait`).
  log::Options log_options;
  log_options.console = true;
  log::init(log_options);
  std::vector<std::string> words(argv + 1, argv + argc);

  const auto runtime = posix::runtime_dir();
  ctl::Platform p;
  p.llm_service = "tandem-llm";
  p.trainer_service = "tandem-trainer";
  p.open_services = [] {
    return std::make_unique<posix::SystemdServiceManager>(std::make_unique<posix::SpawnLauncher>());
  };
  p.make_resolver = [runtime] { return std::make_unique<posix::LlmResolver>(runtime); };
  p.read_publication = [runtime] {
    return posix::read_runtime_file(runtime / posix::kLlmPublicationFile);
  };
  p.read_trainer_status = [runtime]() -> std::optional<TrainerStatus> {
    const auto file = runtime / posix::kTrainerStatusFile;
    const auto text = read_file_if_exists(file);
    if (!text) return std::nullopt;
    return parse_trainer_status_json(path_utf8(file), *text);
  };
  p.make_watch = [](const std::filesystem::path& folder) {
    return std::make_unique<posix::DirWatch>(folder);
  };
  p.trainer_config = paths::trainer_config();
  p.llm_config = paths::llm_server_config();
  p.logs_dir = paths::logs_dir();
  p.elevate_hint = "run it as root (sudo)";
  p.jobs_access_hint = "writing in the jobs folder needs the tandem group (or sudo)";
  p.install_hint = "install the .deb (sudo apt install ./tandem_*.deb)";
  p.no_installer =
      "not on Linux: the .deb installs the services and systemctl enables them (sudo apt "
      "install ./tandem_*.deb; sudo systemctl enable --now tandem-trainer)";
  return ctl::run_tandemctl(std::move(words), p);
}
