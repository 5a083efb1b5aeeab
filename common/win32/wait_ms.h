// A wait's bound as the DWORD milliseconds Win32 takes: kWaitForever is INFINITE, anything else
// is held below it, so a long bound never means "forever".
#pragma once

#include <windows.h>

#include <algorithm>
#include <chrono>

namespace tandem::win32 {

// For a wait that only a signalled handle ends.
inline constexpr std::chrono::milliseconds kWaitForever = std::chrono::milliseconds::max();

inline DWORD wait_ms(std::chrono::milliseconds timeout) {
  if (timeout == kWaitForever) return INFINITE;
  return static_cast<DWORD>(
      std::clamp<std::chrono::milliseconds::rep>(timeout.count(), 0, INFINITE - 1));
}

// A duration Win32 takes as DWORD milliseconds that bounds no wait (a wait hint, a restart
// delay): held in 0..MAXDWORD.
inline DWORD dword_ms(std::chrono::milliseconds duration) {
  return static_cast<DWORD>(
      std::clamp<std::chrono::milliseconds::rep>(duration.count(), 0, MAXDWORD));
}

}  // namespace tandem::win32
