#include "common/win32/waits.h"

#include <algorithm>
#include <utility>

#include "common/win32/error.h"

namespace tandem::win32 {

std::optional<std::size_t> wait_any(std::span<const HANDLE> handles,
                                    std::chrono::milliseconds timeout, const std::string& what) {
  // Alertable, so the APC of a ServiceStateWatch armed on this thread runs and sets its event;
  // each APC ends the wait early, and it goes on for what is left.
  const auto deadline = timeout == kWaitForever ? std::chrono::steady_clock::time_point::max()
                                                : std::chrono::steady_clock::now() + timeout;
  DWORD r = WAIT_IO_COMPLETION;
  while (r == WAIT_IO_COMPLETION) {
    const auto left = timeout == kWaitForever
                          ? kWaitForever
                          : std::max(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         deadline - std::chrono::steady_clock::now()),
                                     std::chrono::milliseconds(0));
    r = WaitForMultipleObjectsEx(static_cast<DWORD>(handles.size()), handles.data(), FALSE,
                                 wait_ms(left), TRUE);
  }
  if (r == WAIT_FAILED) throw_last_error("WaitForMultipleObjectsEx(" + what + ")");
  if (r == WAIT_TIMEOUT) return std::nullopt;
  if (r >= WAIT_ABANDONED_0 && r < WAIT_ABANDONED_0 + handles.size()) return r - WAIT_ABANDONED_0;
  return r - WAIT_OBJECT_0;
}

RegisteredWait::RegisteredWait(HANDLE object, WAITORTIMERCALLBACK callback, void* context,
                               const std::string& what) {
  if (!RegisterWaitForSingleObject(&wait_, object, callback, context, INFINITE,
                                   WT_EXECUTEONLYONCE)) {
    wait_ = nullptr;
    throw_last_error("RegisterWaitForSingleObject(" + what + ")");
  }
}

RegisteredWait::RegisteredWait(RegisteredWait&& other) noexcept
    : wait_(std::exchange(other.wait_, nullptr)) {}

RegisteredWait& RegisteredWait::operator=(RegisteredWait&& other) noexcept {
  if (this != &other) {
    reset();
    wait_ = std::exchange(other.wait_, nullptr);
  }
  return *this;
}

void RegisteredWait::reset() {
  // INVALID_HANDLE_VALUE: return only once a callback in flight has finished.
  if (wait_) UnregisterWaitEx(std::exchange(wait_, nullptr), INVALID_HANDLE_VALUE);
}

}  // namespace tandem::win32
