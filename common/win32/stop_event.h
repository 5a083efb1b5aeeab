// A Win32 event that is set when a std::stop_token is requested, so a stop can end any
// WaitForMultipleObjects or overlapped I/O (pipe_io.h) at once.
#pragma once

#include <windows.h>

#include <optional>
#include <stop_token>

#include "common/win32/event.h"

namespace tandem::win32 {

class StopEvent {
 public:
  // Set at once if `token` is already stopped. A default token never sets it.
  explicit StopEvent(std::stop_token token);
  StopEvent(const StopEvent&) = delete;
  StopEvent& operator=(const StopEvent&) = delete;
  // For waits (SYNCHRONIZE, which its creation gave).
  HANDLE get() const { return event_.waitable("a wait on a stop request"); }

 private:
  struct Set {
    const Event* event;
    void operator()() const noexcept { event->set_or_log(); }
  };
  Event event_;
  std::optional<std::stop_callback<Set>> callback_;  // after event_: unregistered first
};

}  // namespace tandem::win32
