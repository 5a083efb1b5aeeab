// Running a Windows command (sc.exe, a Tandem exe) from a test and waiting for it, bounded.
#pragma once

#include <windows.h>

#include <chrono>
#include <future>
#include <stdexcept>
#include <string>

#include "common/win32/handle.h"
#include "common/win32/strings.h"

namespace tandem::testing {

struct ProcessResult {
  DWORD exit_code = 0;
  std::string output;  // stdout
  std::string errors;  // stderr
};

namespace detail {
struct Pipe {
  win32::Handle read, write;
  Pipe() {
    SECURITY_ATTRIBUTES inherit{sizeof(inherit), nullptr, TRUE};
    HANDLE r = nullptr;
    HANDLE w = nullptr;
    if (!CreatePipe(&r, &w, &inherit, 0)) throw std::runtime_error("CreatePipe failed");
    read.reset(r);
    write.reset(w);
    SetHandleInformation(read.get(), HANDLE_FLAG_INHERIT, 0);
  }
};
inline std::string drain(HANDLE h) {
  std::string out;
  char buffer[4096];
  DWORD n = 0;
  while (ReadFile(h, buffer, sizeof(buffer), &n, nullptr) && n > 0) out.append(buffer, n);
  return out;
}
}  // namespace detail

inline ProcessResult run_process(const std::string& command_line,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  detail::Pipe out, err;
  STARTUPINFOW si{};
  si.cb = sizeof(si);
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdOutput = out.write.get();
  si.hStdError = err.write.get();
  si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
  PROCESS_INFORMATION pi{};
  std::wstring cmd = win32::widen(command_line);
  auto create = [&] {
    return CreateProcessW(nullptr, cmd.data(), nullptr, nullptr, TRUE, CREATE_NO_WINDOW, nullptr,
                          nullptr, &si, &pi);
  };
  // Wine 8 now and then fails a CreateProcessW with ERROR_INTERNAL_ERROR while services start or
  // stop; a second attempt succeeds. Any other failure is reported at once.
  if (!create() && !(GetLastError() == ERROR_INTERNAL_ERROR && create())) {
    throw std::runtime_error("CreateProcessW(" + command_line +
                             ") failed: " + std::to_string(GetLastError()));
  }
  win32::Handle process(pi.hProcess);
  win32::Handle thread(pi.hThread);
  out.write.reset();  // the child holds the only write ends: reads end when it exits
  err.write.reset();
  ProcessResult result;
  auto errors = std::async(std::launch::async, [&] { return detail::drain(err.read.get()); });
  result.output = detail::drain(out.read.get());
  result.errors = errors.get();
  if (WaitForSingleObject(process.get(), static_cast<DWORD>(timeout.count())) != WAIT_OBJECT_0) {
    TerminateProcess(process.get(), 1);
    throw std::runtime_error(command_line + " did not finish within " +
                             std::to_string(timeout.count()) + " ms");
  }
  GetExitCodeProcess(process.get(), &result.exit_code);
  return result;
}

}  // namespace tandem::testing
