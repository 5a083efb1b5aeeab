// An event handle that knows the rights it was opened with (access.h) and checks, before each
// call, the right Microsoft documents for it.
#pragma once

#include <windows.h>

#include <chrono>
#include <string>

#include "common/win32/access.h"
#include "common/win32/handle.h"

namespace tandem::win32 {

class Event {
 public:
  // automatic: a wait that sees the event set also clears it.
  enum class Reset { manual, automatic };

  Event() = default;
  // CreateEventW(unnamed, not set): its handle has EVENT_ALL_ACCESS, as documented. `what` names
  // the event in errors: "CreateEventW(tray stop) failed: …".
  Event(Reset reset, std::string what);
  // An event handle opened elsewhere with `access`.
  static Event adopt(HANDLE event, std::string what, DWORD access);

  explicit operator bool() const { return static_cast<bool>(handle_); }
  const AccessRights& rights() const { return rights_; }

  // SetEvent / ResetEvent; need EVENT_MODIFY_STATE.
  void set() const;
  void reset() const;
  // set() where nothing may escape (an APC, a stop callback, a thread's last act): a failure is
  // logged, and the waits on the event end at their own bounds.
  void set_or_log() const noexcept;
  // WaitForSingleObject; needs SYNCHRONIZE. True once the event is set, false when `timeout`
  // (kWaitForever allowed, wait_ms.h) runs out first.
  bool wait(std::chrono::milliseconds timeout) const;
  // The handle, for a wait made by `call` (WaitFor*Objects*, an OVERLAPPED's event, a registered
  // wait); needs SYNCHRONIZE.
  HANDLE waitable(const std::string& call) const;
  // The handle, for a call that sets it itself (an OVERLAPPED's event, RegNotifyChangeKeyValue);
  // needs EVENT_MODIFY_STATE.
  HANDLE signalled_by(const std::string& call) const;

 private:
  Handle handle_;
  AccessRights rights_{kEventRights, 0};
  std::string what_;
};

}  // namespace tandem::win32
