// A thread handle that knows the rights it was opened with (access.h) and checks, before each
// call, the right Microsoft documents for it, as Process does for processes.
#pragma once

#include <windows.h>

#include <string>

#include "common/win32/access.h"
#include "common/win32/handle.h"

namespace tandem::win32 {

class Thread {
 public:
  Thread() = default;
  // CreateThread(routine, parameter): its handle has THREAD_ALL_ACCESS, as documented.
  // `what` names the thread in errors ("output reader").
  static Thread start(LPTHREAD_START_ROUTINE routine, void* parameter, std::string what);
  // A handle a starting call gave: CreateProcessW's hThread has THREAD_ALL_ACCESS, as documented.
  static Thread adopt(HANDLE created, std::string what, DWORD access = THREAD_ALL_ACCESS);

  explicit operator bool() const { return static_cast<bool>(handle_); }
  const AccessRights& rights() const { return rights_; }

  // ResumeThread; needs THREAD_SUSPEND_RESUME.
  void resume() const;
  // CancelSynchronousIo; needs THREAD_TERMINATE. False when the thread had no synchronous I/O
  // to cancel (ERROR_NOT_FOUND: between two reads, or ended); Win32Error for any other failure.
  bool cancel_synchronous_io() const;
  // WaitForSingleObject; needs SYNCHRONIZE. Whether it ended within `timeout_ms`.
  bool wait(DWORD timeout_ms) const;
  // The handle, for a wait on several objects made by `call`; needs SYNCHRONIZE.
  HANDLE waitable(const std::string& call) const;

 private:
  Thread(Handle handle, DWORD access, std::string what);

  Handle handle_;
  AccessRights rights_{kThreadRights, 0};
  std::string what_;
};

}  // namespace tandem::win32
