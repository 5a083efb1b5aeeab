// The client side of a Tandem pipe: one request, one response, within one bound.
#pragma once

#include <windows.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace tandem::win32 {

struct PipeCall {
  std::string response;
  std::uint32_t server_pid = 0;  // GetNamedPipeServerProcessId: who really answered
};

// Connects to `name` ("tandem-llm" or "\\.\pipe\tandem-llm"), waiting for a free instance if
// all are busy, sends `request` as one message and reads one message back, all within
// `timeout` (a `wait` request needs its timeout_ms plus a margin). Opened for identification
// only, so the server can never impersonate the caller. Throws Win32Error naming the call and
// the pipe: ERROR_FILE_NOT_FOUND when nobody serves the name, ERROR_TIMEOUT when the bound runs
// out, ERROR_BROKEN_PIPE when the server hangs up without answering.
// `stop` (an event; may be null) ends the call early: StopRequested.
PipeCall call_pipe(std::string_view name, std::string_view request,
                   std::chrono::milliseconds timeout, HANDLE stop = nullptr);

}  // namespace tandem::win32
