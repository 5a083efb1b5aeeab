// Running a Windows command (sc.exe, a Tandem exe) from a test and waiting for it, bounded.
#pragma once

#include <windows.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include "common/win32/handle.h"
#include "common/win32/strings.h"

namespace tandem::testing {

struct ProcessResult {
  DWORD exit_code = 0;
  std::string output;  // stdout and stderr together
};

inline ProcessResult run_process(const std::string& command_line,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  SECURITY_ATTRIBUTES inherit{sizeof(inherit), nullptr, TRUE};
  HANDLE read_raw = nullptr;
  HANDLE write_raw = nullptr;
  if (!CreatePipe(&read_raw, &write_raw, &inherit, 0))
    throw std::runtime_error("CreatePipe failed");
  win32::Handle read_end(read_raw);
  win32::Handle write_end(write_raw);
  SetHandleInformation(read_end.get(), HANDLE_FLAG_INHERIT, 0);
  STARTUPINFOW si{};
  si.cb = sizeof(si);
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdOutput = si.hStdError = write_end.get();
  si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
  PROCESS_INFORMATION pi{};
  std::wstring cmd = win32::widen(command_line);
  if (!CreateProcessW(nullptr, cmd.data(), nullptr, nullptr, TRUE, CREATE_NO_WINDOW, nullptr,
                      nullptr, &si, &pi)) {
    throw std::runtime_error("CreateProcessW(" + command_line +
                             ") failed: " + std::to_string(GetLastError()));
  }
  win32::Handle process(pi.hProcess);
  win32::Handle thread(pi.hThread);
  write_end.reset();  // the child holds the only write end: ReadFile ends when it exits
  ProcessResult result;
  char buffer[4096];
  DWORD n = 0;
  while (ReadFile(read_end.get(), buffer, sizeof(buffer), &n, nullptr) && n > 0) {
    result.output.append(buffer, n);
  }
  if (WaitForSingleObject(process.get(), static_cast<DWORD>(timeout.count())) != WAIT_OBJECT_0) {
    TerminateProcess(process.get(), 1);
    throw std::runtime_error(command_line + " did not finish within " +
                             std::to_string(timeout.count()) + " ms");
  }
  GetExitCodeProcess(process.get(), &result.exit_code);
  return result;
}

}  // namespace tandem::testing
