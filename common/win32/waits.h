// Kernel waits behind RAII types: a thread-pool wait and a wait for the first of several handles
// (the event is event.h's). Every failure is a Win32Error naming the call and what it was for.
#pragma once

#include <windows.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "common/win32/event.h"
#include "common/win32/handle.h"
#include "common/win32/wait_ms.h"

namespace tandem::win32 {

// A thread-pool wait (RegisterWaitForSingleObject, WT_EXECUTEONLYONCE) that calls
// `callback(context, FALSE)` once when `object` is signalled. Ending it (destructor, reset)
// cancels the wait and waits for a callback in flight, so `context` may go right after.
class RegisteredWait {
 public:
  RegisteredWait() = default;
  RegisteredWait(HANDLE object, WAITORTIMERCALLBACK callback, void* context,
                 const std::string& what);
  RegisteredWait(RegisteredWait&& other) noexcept;
  RegisteredWait& operator=(RegisteredWait&& other) noexcept;
  RegisteredWait(const RegisteredWait&) = delete;
  RegisteredWait& operator=(const RegisteredWait&) = delete;
  ~RegisteredWait() { reset(); }

  void reset();
  explicit operator bool() const { return wait_ != nullptr; }

 private:
  HANDLE wait_ = nullptr;
};

// The index in `handles` of the first one signalled; std::nullopt when `timeout` runs out.
std::optional<std::size_t> wait_any(std::span<const HANDLE> handles,
                                    std::chrono::milliseconds timeout, const std::string& what);

}  // namespace tandem::win32
