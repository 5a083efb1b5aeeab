// The Windows runner of a ServiceBody; one executable, two ways to run it (the osquery pattern):
// under the Windows SCM, or in the foreground with --console, where Ctrl+C, Ctrl+Break, closing
// the console window and (when stdin is a pipe) the end of stdin request the stop that the SCM's
// STOP/PRESHUTDOWN/SHUTDOWN would.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "common/service_body.h"

namespace tandem::win32 {

struct ServiceOptions {
  bool console = false;  // run in the foreground (--console) instead of under the SCM
  // Optional; when set the SCM offers Pause/Continue.
  PauseHooks pause;
  // Called (inside the body's error handling) with the arguments given to StartServiceW, which
  // differ from the binary path's arguments in argv; not called in console runs.
  std::function<void(const std::vector<std::string>&)> on_start_arguments;
  // The first START_PENDING, reported before the body runs, and the STOP_PENDING reported the
  // moment a stop control arrives (the body's own stopping() calls refine it).
  std::chrono::milliseconds initial_start_hint{5000};
  std::chrono::milliseconds stop_hint{10000};
};

// True when the command line holds "--console".
bool console_requested(int argc, const wchar_t* const* argv);

// Runs `body` and returns the process exit code. Under the SCM: START_PENDING with a rising
// checkpoint on each starting(), RUNNING on running(), STOP_PENDING on a stop control or
// stopping(), then STOPPED with ERROR_SERVICE_SPECIFIC_ERROR and the body's code when it is not 0
// (or kExitBodyThrew when the body threw), so the SCM's recovery actions apply. Started neither
// by the SCM nor with --console, it prints a one-line hint and returns 1.
// One run per process at a time: a second concurrent call throws tandem::Error.
int run_service(const std::wstring& name, const ServiceBody& body, ServiceOptions options = {});

}  // namespace tandem::win32
