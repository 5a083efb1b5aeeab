// Runs a command job's program on Windows inside a Job Object, so that ending the job ends the
// program and everything it started, and a trainer that dies takes them along
// (JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE). Its stdout and stderr come through two pipes, read by a
// thread each and cut into lines as they arrive; stdin is NUL.
//
// The child inherits only its three standard handles (PROC_THREAD_ATTRIBUTE_HANDLE_LIST).
// Another thread of ours calling CreateProcess with inheritance and no handle list at the same
// moment could still inherit the pipes' write ends; the trainer has no such caller.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "common/process/process_launcher.h"

namespace tandem::win32 {

class JobObjectLauncher : public ProcessLauncher {
 public:
  // The exit code of a program ended on a stop request.
  static constexpr int kStoppedExitCode = 1067;  // ERROR_PROCESS_ABORTED
  // After the job is terminated: how long the processes and then the output readers may take.
  static constexpr std::chrono::milliseconds kDefaultEndTimeout{10'000};

  explicit JobObjectLauncher(std::chrono::milliseconds end_timeout = kDefaultEndTimeout)
      : end_timeout_(end_timeout) {}

  // When the program exits by itself, whatever it left running in its job is ended too (it
  // would die with the job handle anyway), and its output up to then is delivered. An
  // exception thrown by `on_line` ends the program and is rethrown. A relative program path
  // with a folder in it ("tools\run.exe") is taken from spec.working_dir; a bare name is found
  // by CreateProcessW's search (the trainer's folder, the system folders, the trainer's PATH).
  ProcessExit run(const ProcessSpec& spec, const LineCallback& on_line,
                  std::stop_token stop) override;

 private:
  std::chrono::milliseconds end_timeout_;
};

// This process's environment with `overrides` added or replacing variables of the same name
// (ignoring case, as Windows does), sorted as CreateProcessW expects, each "name=value" ended by
// NUL and the block by another. Throws tandem::Error for a name that is empty or holds '=', or a
// name or value holding NUL.
std::wstring environment_block(const std::map<std::string, std::string>& overrides);

}  // namespace tandem::win32
