// Kernel waits behind RAII types: an event, a running process to wait for, and a wait for the
// first of several handles. Every failure is a Win32Error naming the call and what it was for.
#pragma once

#include <windows.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "common/win32/handle.h"

namespace tandem::win32 {

// For a wait that only a signalled handle ends.
inline constexpr std::chrono::milliseconds kWaitForever = std::chrono::milliseconds::max();

class Event {
 public:
  // automatic: a wait that sees the event set also clears it.
  enum class Reset { manual, automatic };
  // `what` names the event in errors: "CreateEventW(tray stop) failed: …".
  Event(Reset reset, std::string what);

  void set() const;
  // True once the event is set, false when `timeout` runs out first.
  bool wait(std::chrono::milliseconds timeout) const;
  HANDLE get() const { return handle_.get(); }

 private:
  Handle handle_;
  std::string what_;
};

// The index in `handles` of the first one signalled; std::nullopt when `timeout` runs out.
std::optional<std::size_t> wait_any(std::span<const HANDLE> handles,
                                    std::chrono::milliseconds timeout, const std::string& what);

// A handle to wait for process `pid` to end, while it runs. std::nullopt for pid 0, a process
// that has already ended (the SCM may still name it) or one this account may not open.
std::optional<Handle> open_running_process(std::uint32_t pid);

}  // namespace tandem::win32
