// Runs tandemctl.exe (from the tray's own folder) elevated with ShellExecuteExW "runas", so the
// tray itself never needs administrator rights, and reports each run's end to a window.
#pragma once

#include <windows.h>

#include <map>
#include <string>

#include "common/win32/handle.h"
#include "common/win32/process.h"
#include "common/win32/waits.h"

namespace tandem::tray {

class ElevatedCommands {
 public:
  // `done_message` is posted to `window` with wParam = the run's id when it ends.
  ElevatedCommands(HWND window, UINT done_message) : window_(window), message_(done_message) {}
  ElevatedCommands(const ElevatedCommands&) = delete;
  ElevatedCommands& operator=(const ElevatedCommands&) = delete;

  // Starts `tandemctl <arguments>`; false when the user declined elevation. Throws Win32Error.
  bool run(const std::string& arguments);

  struct Finished {
    std::string arguments;
    DWORD exit_code = 0;
  };
  // On `done_message`: the run's arguments and exit code; it is forgotten then.
  Finished finish(WPARAM id);

 private:
  struct Run {
    std::string arguments;
    win32::Process process;
    HWND window = nullptr;
    UINT message = 0;
    WPARAM id = 0;
    // Last, so it ends first: its callback reads the fields above. The processes themselves
    // keep running when the tray quits.
    win32::RegisteredWait wait;
  };
  static void CALLBACK on_exit(void* context, BOOLEAN timed_out);

  HWND window_;
  UINT message_;
  WPARAM next_id_ = 1;
  std::map<WPARAM, Run> runs_;
};

}  // namespace tandem::tray
