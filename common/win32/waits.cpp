#include "common/win32/waits.h"

#include <algorithm>
#include <utility>

#include "common/win32/error.h"

namespace tandem::win32 {
namespace {

DWORD to_dword(std::chrono::milliseconds timeout) {
  if (timeout == kWaitForever) return INFINITE;
  return static_cast<DWORD>(
      std::clamp<std::chrono::milliseconds::rep>(timeout.count(), 0, INFINITE - 1));
}

}  // namespace

Event::Event(Reset reset, std::string what)
    : handle_(CreateEventW(nullptr, reset == Reset::manual, FALSE, nullptr)),
      what_(std::move(what)) {
  if (!handle_) throw_last_error("CreateEventW(" + what_ + ")");
}

void Event::set() const {
  if (!SetEvent(handle_.get())) throw_last_error("SetEvent(" + what_ + ")");
}

bool Event::wait(std::chrono::milliseconds timeout) const {
  const DWORD r = WaitForSingleObject(handle_.get(), to_dword(timeout));
  if (r == WAIT_FAILED) throw_last_error("WaitForSingleObject(" + what_ + ")");
  return r == WAIT_OBJECT_0;
}

std::optional<std::size_t> wait_any(std::span<const HANDLE> handles,
                                    std::chrono::milliseconds timeout, const std::string& what) {
  const DWORD r = WaitForMultipleObjects(static_cast<DWORD>(handles.size()), handles.data(), FALSE,
                                         to_dword(timeout));
  if (r == WAIT_FAILED) throw_last_error("WaitForMultipleObjects(" + what + ")");
  if (r == WAIT_TIMEOUT) return std::nullopt;
  if (r >= WAIT_ABANDONED_0 && r < WAIT_ABANDONED_0 + handles.size()) return r - WAIT_ABANDONED_0;
  return r - WAIT_OBJECT_0;
}

std::optional<Handle> open_running_process(std::uint32_t pid) {
  if (pid == 0) return std::nullopt;
  Handle process(OpenProcess(SYNCHRONIZE, FALSE, pid));
  // An exited process would wake every wait at once: leave it out.
  if (!process || WaitForSingleObject(process.get(), 0) != WAIT_TIMEOUT) return std::nullopt;
  return process;
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
