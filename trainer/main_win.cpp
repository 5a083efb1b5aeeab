// tandem-trainer.exe: the TandemTrainer service, the same in the foreground with --console, and
// the student's command line.
//   tandem-trainer.exe [--console] [--config FILE]
//   tandem-trainer.exe predict MODEL TEXT [--json]    label a text with a trained student
#include <windows.h>

#include <cstdio>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/paths.h"
#include "common/service_names.h"
#include "common/win32/child_process.h"
#include "common/win32/folder_facts.h"
#include "common/win32/folder_watch.h"
#include "common/win32/llm_resolver.h"
#include "common/win32/registry_publication.h"
#include "common/win32/scm_runner.h"
#include "common/win32/status_publication.h"
#include "common/win32/strings.h"
#include "trainer/distill/predict_command.h"
#include "trainer/trainer_service.h"

namespace {

using namespace tandem;

constexpr const char* kPipeName = "\\\\.\\pipe\\tandem-trainer";

int usage(const std::wstring& problem) {
  std::fwprintf(stderr,
                L"tandem-trainer: %ls\nusage: tandem-trainer.exe [--console] [--config FILE]\n"
                L"       tandem-trainer.exe predict MODEL TEXT [--json]\n",
                problem.c_str());
  return 2;
}

// The trainer's status in HKLM\SOFTWARE\Tandem\Trainer and on \\.\pipe\tandem-trainer.
class WindowsStatusPublication final : public trainer::StatusPublication {
 public:
  explicit WindowsStatusPublication(std::function<TrainerStatus()> current)
      : publication_(
            win32::kTrainerKey, kPipeName,
            [current](std::string_view request, std::stop_token) {
              return trainer::answer_status_request(current(), request);
            },
            kTrainerServiceName) {}
  void write(const TrainerStatus& status) override {
    publication_.write(trainer_status_values(status));
  }

 private:
  win32::StatusPublication publication_;
};

}  // namespace

int wmain(int argc, wchar_t** argv) {
  if (argc >= 2 && std::wstring(argv[1]) == L"predict") {
    std::vector<std::string> words;
    for (int i = 2; i < argc; ++i) words.push_back(win32::narrow(argv[i]));
    return distill::predict_command(
        words, [](const std::string& problem) { return usage(win32::widen(problem)); });
  }

  win32::ServiceOptions host;
  host.console = win32::console_requested(argc, argv);
  trainer::PauseGate pause;
  host.pause = {[&pause](std::function<void()> held) { return pause.pause(std::move(held)); },
                [&pause] { pause.resume(); },
                [&pause](std::function<void(bool)> report) { pause.watch_pausable(report); }};

  trainer::TrainerServiceOptions options;
  options.config_file = paths::trainer_config();
  options.llm_config_file = paths::llm_server_config();
  for (int i = 1; i < argc; ++i) {
    std::wstring arg = argv[i];
    if (arg == L"--config" && i + 1 < argc) {
      options.config_file = argv[++i];
    } else if (arg != L"--console") {
      return usage(L"unknown argument " + arg);
    }
  }
  options.pipe_name = kPipeName;
  options.pause = &pause;
  options.make_publication = [](std::function<TrainerStatus()> current) {
    return std::make_unique<WindowsStatusPublication>(std::move(current));
  };
  options.make_resolver = [] { return std::make_unique<win32::LlmResolver>(); };
  options.make_watch = [](const std::filesystem::path& folder) {
    return std::make_unique<win32::ChangeNotificationWatch>(folder);
  };
  options.make_launcher = [] { return std::make_unique<win32::JobObjectLauncher>(); };
  options.read_folder_facts = win32::read_folder_facts;

  log::Options log_options;
  log_options.directory = paths::logs_dir();
  log_options.file_stem = "tandem-trainer";
  log_options.console = host.console;
  log_options.event_source = kTrainerServiceName;
  log::init_or_fall_back(log_options);
  int code = win32::run_service(
      L"TandemTrainer",
      [&](ServiceStatus& status, StopSignal& stop) {
        return trainer::run_trainer_service(status, stop, options);
      },
      host);
  log::shutdown();
  return code;
}
