// TandemTrainer's service body, the same under the SCM and in a console: load config, open the
// job spool, publish status, then run jobs (resuming an interrupted one first) until asked to
// stop. It never starts the server: it finds it through a Resolver and waits for it there.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "common/discovery/resolver.h"
#include "common/folder_trust.h"
#include "common/folder_watch.h"
#include "common/process/process_launcher.h"
#include "common/service_body.h"
#include "trainer/job_control.h"
#include "trainer/status.h"

namespace tandem::trainer {

enum ExitCode : int {
  kExitOk = 0,
  kExitBadConfig = 2,      // trainer.json is invalid
  kExitPublishFailed = 3,  // the status pipe name is taken or the registry refused us
  kExitSpoolFailed = 4,    // the jobs folder cannot be created or read
};

// Keeps the status visible (registry values and the pipe) while it lives; the pipe answers
// through `current`, so it is always fresh.
class StatusPublication {
 public:
  virtual ~StatusPublication() = default;
  virtual void write(const TrainerStatus& status) = 0;
};

struct TrainerServiceOptions {
  std::filesystem::path config_file;  // trainer.json; missing means defaults
  // llm-server.json: the trainer sends the server's API key (api_key_file), when it has one.
  std::filesystem::path llm_config_file;
  std::string pipe_name;  // \\.\pipe\tandem-trainer
  std::function<std::unique_ptr<StatusPublication>(std::function<TrainerStatus()> current)>
      make_publication;
  std::function<std::unique_ptr<discovery::Resolver>()> make_resolver;
  std::function<std::unique_ptr<FolderWatch>(const std::filesystem::path& folder)> make_watch;
  std::function<std::unique_ptr<ProcessLauncher>()> make_launcher;
  const PauseGate* pause = nullptr;  // Pause/Continue from the SCM; none in tests
  // The owner and permissions of a jobs folder (win32/posix read_folder_facts). Before it claims
  // a job the trainer checks the spool's folders with them (common/folder_trust.h) and, while
  // one fails, runs none and says why. None: not checked (tests of other things).
  std::function<FolderFacts(const std::filesystem::path& folder)> read_folder_facts;
  // How long the idle loop waits for an inbox notification before rescanning anyway: by default
  // for ever, the notification (inotify, a change notification) loses none, and an idle trainer
  // wakes for nothing.
  std::chrono::milliseconds rescan_interval = kWaitForChangeOnly;
  // While the jobs folders are not trusted, how often they are looked at again: a repaired DACL
  // (tandemctl configure-services) is not a change the inbox notification reports.
  std::chrono::milliseconds blocked_recheck{30000};
};

int run_trainer_service(ServiceStatus& status, StopSignal& stop,
                        const TrainerServiceOptions& options);

}  // namespace tandem::trainer
