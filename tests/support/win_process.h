// Running a Windows command (sc.exe, msiexec, a Tandem exe) from a test and waiting for it,
// bounded. The child inherits only the handles named here: were it to inherit the test's own
// stdout (CTest's pipe), a helper it leaves behind would keep CTest waiting long after the test.
#pragma once

#include <windows.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <future>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/win32/handle.h"
#include "common/win32/strings.h"

namespace tandem::testing {

// What a child inherits: its standard handles only, or (to show the difference in a test) every
// inheritable handle of this process, as a plain CreateProcessW does.
enum class Inherit { std_handles, everything };

struct ProcessResult {
  DWORD exit_code = 0;
  std::string output;  // stdout
  std::string errors;  // stderr
};

namespace detail {

inline SECURITY_ATTRIBUTES* inheritable() {
  static SECURITY_ATTRIBUTES attributes{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
  return &attributes;
}

struct Pipe {
  win32::Handle read, write;
  Pipe() {
    HANDLE r = nullptr;
    HANDLE w = nullptr;
    if (!CreatePipe(&r, &w, inheritable(), 0)) throw std::runtime_error("CreatePipe failed");
    read.reset(r);
    write.reset(w);
    SetHandleInformation(read.get(), HANDLE_FLAG_INHERIT, 0);
  }
};

inline win32::FileHandle open_nul() {
  win32::FileHandle nul(CreateFileW(L"NUL", GENERIC_READ | GENERIC_WRITE,
                                    FILE_SHARE_READ | FILE_SHARE_WRITE, inheritable(),
                                    OPEN_EXISTING, 0, nullptr));
  if (!nul) throw std::runtime_error("CreateFileW(NUL) failed: " + std::to_string(GetLastError()));
  return nul;
}

inline std::string drain(HANDLE h) {
  std::string out;
  char buffer[4096];
  DWORD n = 0;
  while (ReadFile(h, buffer, sizeof(buffer), &n, nullptr) && n > 0) out.append(buffer, n);
  return out;
}

// Starts `command_line` with the given standard handles and no other inherited handle.
inline win32::Handle spawn(const std::string& command_line, HANDLE in, HANDLE out, HANDLE err,
                           Inherit inherit = Inherit::std_handles) {
  std::vector<HANDLE> handles = {in};
  for (HANDLE h : {out, err}) {
    if (std::find(handles.begin(), handles.end(), h) == handles.end()) handles.push_back(h);
  }
  SIZE_T size = 0;
  InitializeProcThreadAttributeList(nullptr, 1, 0, &size);
  std::vector<std::byte> buffer(size);
  auto* list = reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(buffer.data());
  if (!InitializeProcThreadAttributeList(list, 1, 0, &size)) {
    throw std::runtime_error("InitializeProcThreadAttributeList failed");
  }
  if (!UpdateProcThreadAttribute(list, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, handles.data(),
                                 handles.size() * sizeof(HANDLE), nullptr, nullptr)) {
    DeleteProcThreadAttributeList(list);
    throw std::runtime_error("UpdateProcThreadAttribute(HANDLE_LIST) failed");
  }
  STARTUPINFOEXW si{};
  si.StartupInfo.cb = sizeof(si);
  si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
  si.StartupInfo.hStdInput = in;
  si.StartupInfo.hStdOutput = out;
  si.StartupInfo.hStdError = err;
  si.lpAttributeList = inherit == Inherit::std_handles ? list : nullptr;
  PROCESS_INFORMATION pi{};
  std::wstring cmd = win32::widen(command_line);
  auto create = [&] {
    return CreateProcessW(nullptr, cmd.data(), nullptr, nullptr, TRUE,
                          CREATE_NO_WINDOW | EXTENDED_STARTUPINFO_PRESENT, nullptr, nullptr,
                          &si.StartupInfo, &pi);
  };
  // Wine 8 now and then fails a CreateProcessW with ERROR_INTERNAL_ERROR while services start or
  // stop; a second attempt succeeds. Any other failure is reported at once.
  const bool created = create() || (GetLastError() == ERROR_INTERNAL_ERROR && create());
  const DWORD error = GetLastError();
  DeleteProcThreadAttributeList(list);
  if (!created) {
    throw std::runtime_error("CreateProcessW(" + command_line +
                             ") failed: " + std::to_string(error));
  }
  CloseHandle(pi.hThread);
  return win32::Handle(pi.hProcess);
}

inline DWORD wait_exit(HANDLE process, const std::string& command_line,
                       std::chrono::milliseconds timeout) {
  if (WaitForSingleObject(process, static_cast<DWORD>(timeout.count())) != WAIT_OBJECT_0) {
    TerminateProcess(process, 1);
    throw std::runtime_error(command_line + " did not finish within " +
                             std::to_string(timeout.count()) + " ms");
  }
  DWORD code = 0;
  GetExitCodeProcess(process, &code);
  return code;
}

}  // namespace detail

// Runs a command and returns its exit code and what it wrote to stdout and stderr.
inline ProcessResult run_process(const std::string& command_line,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(60),
                                 Inherit inherit = Inherit::std_handles) {
  detail::Pipe out, err;
  auto nul = detail::open_nul();
  auto process = detail::spawn(command_line, nul.get(), out.write.get(), err.write.get(), inherit);
  out.write.reset();  // the child holds the only write ends: reads end when it exits
  err.write.reset();
  ProcessResult result;
  auto errors = std::async(std::launch::async, [&] { return detail::drain(err.read.get()); });
  result.output = detail::drain(out.read.get());
  result.errors = errors.get();
  result.exit_code = detail::wait_exit(process.get(), command_line, timeout);
  return result;
}

// For programs that leave helpers behind (msiexec: its custom-action server): the child writes
// to NUL, so only its own end is awaited, never a pipe a helper still holds.
inline DWORD run_detached(const std::string& command_line,
                          std::chrono::milliseconds timeout = std::chrono::seconds(180)) {
  auto nul = detail::open_nul();
  auto process = detail::spawn(command_line, nul.get(), nul.get(), nul.get());
  return detail::wait_exit(process.get(), command_line, timeout);
}

}  // namespace tandem::testing
