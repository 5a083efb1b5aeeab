// Runs a command job's program on Linux (the twin of win32::JobObjectLauncher): fork + exec in
// its own process group, so ending the job ends the program and everything it started; stdout
// and stderr come through two pipes, cut into lines as they arrive; stdin is /dev/null.
#pragma once

#include <chrono>

#include "common/process/process_launcher.h"

namespace tandem::posix {

class SpawnLauncher final : public ProcessLauncher {
 public:
  // After SIGTERM to the group on a stop: how long before SIGKILL.
  static constexpr std::chrono::milliseconds kDefaultEndTimeout{10'000};

  explicit SpawnLauncher(std::chrono::milliseconds end_timeout = kDefaultEndTimeout)
      : end_timeout_(end_timeout) {}

  // When the program exits by itself, whatever it left running in its group is ended too. An
  // exception thrown by `on_line` ends the program and is rethrown. A bare program name is
  // searched in PATH; a relative path with a '/' is taken from spec.working_dir. A program
  // ended by a signal reports 128 + the signal number.
  ProcessExit run(const ProcessSpec& spec, const LineCallback& on_line,
                  std::stop_token stop) override;

 private:
  std::chrono::milliseconds end_timeout_;
};

}  // namespace tandem::posix
