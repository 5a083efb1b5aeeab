// A process handle that knows the rights it was opened with (access.h) and checks, before each
// call, the right Microsoft documents for it. Wine opens any process with any rights; Windows
// gives a standard user's tray, or a service of another account, only what the process's DACL
// allows, so a call its handle lacks the right for must fail here too.
#pragma once

#include <windows.h>

#include <string>

#include "common/win32/access.h"
#include "common/win32/handle.h"

namespace tandem::win32 {

class Process {
 public:
  Process() = default;
  // OpenProcess(`access`, `pid`). An empty Process when it fails, with the reason in `error`:
  // callers tell a refusal (ERROR_ACCESS_DENIED: it exists) from an ended process
  // (ERROR_INVALID_PARAMETER). `what` names it in errors ("server process 1234").
  static Process open(DWORD pid, DWORD access, std::string what, DWORD& error);
  // A handle a starting call gave: CreateProcessW's has PROCESS_ALL_ACCESS, as documented.
  // ShellExecuteExW documents none for its hProcess: its caller passes the rights it relies on.
  static Process adopt(HANDLE created, std::string what, DWORD access = PROCESS_ALL_ACCESS);

  explicit operator bool() const { return static_cast<bool>(handle_); }
  HANDLE get() const { return handle_.get(); }
  const AccessRights& rights() const { return rights_; }
  const std::string& what() const { return what_; }

  // WaitForSingleObject; needs SYNCHRONIZE. Whether it ended within `timeout_ms` (INFINITE
  // allowed). Win32Error naming the call on WAIT_FAILED.
  bool wait(DWORD timeout_ms) const;
  // GetExitCodeProcess; needs PROCESS_QUERY_LIMITED_INFORMATION (which PROCESS_QUERY_INFORMATION
  // includes). STILL_ACTIVE while it runs.
  DWORD exit_code() const;
  // TerminateProcess; needs PROCESS_TERMINATE.
  void terminate(UINT exit_code) const;

 private:
  Process(Handle handle, DWORD access, std::string what);

  Handle handle_;
  AccessRights rights_{kProcessRights, 0};
  std::string what_;
};

}  // namespace tandem::win32
