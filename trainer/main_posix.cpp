// tandem-trainer: TandemTrainer on Linux, the same body as the Windows service, and the
// student's command line. systemd runs it as a Type=notify unit after tandem-llm.
//   tandem-trainer [--config FILE] [--llm-config FILE]   (defaults in /etc/tandem)
//   tandem-trainer predict MODEL TEXT [--json]            label a text with a trained student
#include <cstdio>
#include <string>
#include <vector>

#include "common/console_runner.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/posix/dir_watch.h"
#include "common/posix/folder_facts.h"
#include "common/posix/llm_resolver.h"
#include "common/posix/process_launcher.h"
#include "common/posix/runtime_dir.h"
#include "common/posix/status_publication.h"
#include "common/posix/systemd_notify.h"
#include "trainer/distill/predict_command.h"
#include "trainer/trainer_service.h"

namespace {

using namespace tandem;

int usage(const std::string& problem) {
  std::fprintf(stderr,
               "tandem-trainer: %s\nusage: tandem-trainer [--config FILE] [--llm-config FILE]\n"
               "       tandem-trainer predict MODEL TEXT [--json]\n",
               problem.c_str());
  return 2;
}

// The trainer's status in <runtime>/trainer-status.json and on <runtime>/trainer.sock.
class LinuxStatusPublication final : public trainer::StatusPublication {
 public:
  LinuxStatusPublication(const std::filesystem::path& runtime,
                         std::function<TrainerStatus()> current)
      : publication_(runtime / posix::kTrainerStatusFile, runtime / posix::kTrainerSocket,
                     [current](std::string_view request, std::stop_token) {
                       return trainer::answer_status_request(current(), request);
                     }) {}
  void write(const TrainerStatus& status) override {
    publication_.write(trainer_status_json(status).dump(2) + "\n");
  }

 private:
  posix::StatusPublication publication_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "predict") {
    return distill::predict_command(std::vector<std::string>(argv + 2, argv + argc), usage);
  }

  trainer::TrainerServiceOptions options;
  options.config_file = paths::trainer_config();
  options.llm_config_file = paths::llm_server_config();
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      options.config_file = argv[++i];
    } else if (arg == "--llm-config" && i + 1 < argc) {
      options.llm_config_file = argv[++i];
    } else {
      return usage("unknown argument " + arg);
    }
  }
  const auto runtime = posix::runtime_dir();
  options.pipe_name = (runtime / posix::kTrainerSocket).string();
  options.make_publication = [runtime](std::function<TrainerStatus()> current) {
    return std::make_unique<LinuxStatusPublication>(runtime, std::move(current));
  };
  options.make_resolver = [runtime] { return std::make_unique<posix::LlmResolver>(runtime); };
  options.make_watch = [](const std::filesystem::path& folder) {
    return std::make_unique<posix::DirWatch>(folder);
  };
  options.make_launcher = [] { return std::make_unique<posix::SpawnLauncher>(); };
  options.read_folder_facts = posix::read_folder_facts;

  log::Options log_options;
  log_options.directory = paths::logs_dir();
  log_options.file_stem = "tandem-trainer";
  log_options.console = true;  // stderr: the journal under systemd
  log::init_or_fall_back(log_options);
  posix::SystemdStatus status("TandemTrainer");
  const int code = run_in_console(
      [&](ServiceStatus& s, StopSignal& stop) {
        return trainer::run_trainer_service(s, stop, options);
      },
      "TandemTrainer", &status);
  log::shutdown();
  return code;
}
