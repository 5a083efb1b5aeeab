// tandem-trainer.exe: the TandemTrainer service, the same in the foreground with --console, and
// the student's command line.
//   tandem-trainer.exe [--console] [--config FILE]
//   tandem-trainer.exe predict MODEL TEXT [--json]    label a text with a trained student
#include <windows.h>

#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "common/paths.h"
#include "common/service_names.h"
#include "common/win32/child_process.h"
#include "common/win32/folder_watch.h"
#include "common/win32/llm_resolver.h"
#include "common/win32/registry_publication.h"
#include "common/win32/service_host.h"
#include "common/win32/status_publication.h"
#include "common/win32/strings.h"
#include "trainer/distill/student.h"
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

// Prints the student's label for TEXT (with --json: every label's probability).
int predict(int argc, wchar_t** argv) {
  std::vector<std::string> args;
  bool as_json = false;
  for (int i = 2; i < argc; ++i) {
    std::wstring arg = argv[i];
    if (arg == L"--json") {
      as_json = true;
    } else {
      args.push_back(win32::narrow(arg));
    }
  }
  if (args.size() != 2) return usage(L"predict needs MODEL and TEXT");
  try {
    const distill::Student student = distill::Student::load(win32::widen(args[0]));
    const distill::Prediction p = student.predict(args[1]);
    if (as_json) {
      nlohmann::json probabilities = nlohmann::json::object();
      for (std::size_t k = 0; k < student.labels().size(); ++k) {
        probabilities[student.labels()[k]] = p.probabilities[k];
      }
      std::printf(
          "%s\n",
          nlohmann::json{{"label", p.label}, {"probabilities", probabilities}}.dump().c_str());
    } else {
      std::printf("%s\n", p.label.c_str());
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tandem-trainer predict: %s\n", e.what());
    return 3;
  }
}

// The trainer's status in HKLM\SOFTWARE\Tandem\Trainer and on \\.\pipe\tandem-trainer.
class WindowsStatusPublication final : public trainer::StatusPublication {
 public:
  explicit WindowsStatusPublication(std::function<trainer::TrainerStatus()> current)
      : publication_(
            win32::kTrainerKey, kPipeName,
            [current](std::string_view request, std::stop_token) {
              return trainer::answer_status_request(current(), request);
            },
            kTrainerServiceName) {}
  void write(const trainer::TrainerStatus& status) override {
    publication_.write(trainer::status_registry_values(status));
  }

 private:
  win32::StatusPublication publication_;
};

}  // namespace

int wmain(int argc, wchar_t** argv) {
  if (argc >= 2 && std::wstring(argv[1]) == L"predict") return predict(argc, argv);

  win32::ServiceOptions host;
  host.console = win32::console_requested(argc, argv);
  trainer::PauseGate pause;
  host.pause = {[&pause] { pause.pause(); }, [&pause] { pause.resume(); }};

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
  options.make_publication = [](std::function<trainer::TrainerStatus()> current) {
    return std::make_unique<WindowsStatusPublication>(std::move(current));
  };
  options.make_resolver = [] { return std::make_unique<win32::LlmResolver>(); };
  options.make_watch = [](const std::filesystem::path& folder) {
    return std::make_unique<win32::ChangeNotificationWatch>(folder);
  };
  options.make_launcher = [] { return std::make_unique<win32::JobObjectLauncher>(); };

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
