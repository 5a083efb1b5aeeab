#include "common/win32/pipe_client.h"

#include <windows.h>

#include "common/discovery/endpoint.h"
#include "common/win32/error.h"
#include "common/win32/handle.h"
#include "common/win32/pipe_io.h"
#include "common/win32/strings.h"

namespace tandem::win32 {
namespace {

using Clock = std::chrono::steady_clock;

std::string within(const std::string& call, std::chrono::milliseconds timeout) {
  return call + " within " + std::to_string(timeout.count()) + " ms";
}

Pipe connect(const std::string& path, Clock::time_point deadline,
             std::chrono::milliseconds timeout) {
  const std::wstring wide = widen(path);
  constexpr DWORD kAccess = GENERIC_READ | GENERIC_WRITE;
  for (;;) {
    FileHandle pipe(CreateFileW(
        wide.c_str(), kAccess, 0, nullptr, OPEN_EXISTING,
        FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, nullptr));
    if (pipe) return Pipe(std::move(pipe), kAccess, path);
    DWORD error = GetLastError();
    if (error != ERROR_PIPE_BUSY) throw_error("CreateFileW(" + path + ")", error);
    // Every instance is busy: wait for one to listen again, then race for it.
    DWORD left = remaining_ms(deadline);
    if (left == 0) throw_error(within("CreateFileW(" + path + ")", timeout), ERROR_TIMEOUT);
    if (!WaitNamedPipeW(wide.c_str(), left)) {
      error = GetLastError();
      if (error == ERROR_SEM_TIMEOUT) error = ERROR_TIMEOUT;
      throw_error(within("WaitNamedPipeW(" + path + ")", timeout), error);
    }
  }
}

void check(const IoResult& r, const std::string& call, std::chrono::milliseconds timeout) {
  if (r.end == IoEnd::timed_out) throw_error(within(call, timeout), ERROR_TIMEOUT);
  if (r.end != IoEnd::done) throw_error(call, r.error);
}

}  // namespace

PipeCall call_pipe(std::string_view name, std::string_view request,
                   std::chrono::milliseconds timeout, HANDLE stop) {
  const std::string path = pipe_path(name);
  const auto deadline = Clock::now() + timeout;
  const Pipe pipe = connect(path, deadline, timeout);
  set_message_mode(pipe);
  PipeCall call;
  ULONG pid = 0;
  // Its documentation names no right: any handle to the pipe will do.
  if (!GetNamedPipeServerProcessId(pipe.get(), &pid)) {
    throw_last_error("GetNamedPipeServerProcessId(" + path + ")");
  }
  call.server_pid = pid;

  Overlapped overlapped;
  IoResult out = write_message(pipe, overlapped, stop, remaining_ms(deadline), request);
  if (out.end == IoEnd::stopped) throw StopRequested();
  check(out, "WriteFile(" + path + ")", timeout);
  MessageRead in =
      read_message(pipe, overlapped, stop, remaining_ms(deadline), discovery::kMaxMessageBytes);
  if (in.end == IoEnd::stopped) throw StopRequested();
  const std::string read_call = "ReadFile(" + path + ")";
  if (in.end == IoEnd::timed_out) throw_error(within(read_call, timeout), ERROR_TIMEOUT);
  if (in.end != IoEnd::done) throw_error(read_call, in.error);
  if (in.too_big) {
    throw Error(read_call + ": the response is " + std::to_string(in.size) +
                " bytes; the protocol allows " + std::to_string(discovery::kMaxMessageBytes));
  }
  call.response = std::move(in.message);
  return call;
}

}  // namespace tandem::win32
