#include "common/win32/event.h"

#include "common/log.h"
#include "common/win32/error.h"
#include "common/win32/wait_ms.h"

namespace tandem::win32 {

Event::Event(Reset reset, std::string what)
    : handle_(CreateEventW(nullptr, reset == Reset::manual, FALSE, nullptr)),
      rights_(kEventRights, EVENT_ALL_ACCESS),
      what_(std::move(what)) {
  if (!handle_) throw_last_error("CreateEventW(" + what_ + ")");
}

Event Event::adopt(HANDLE event, std::string what, DWORD access) {
  Event e;
  e.handle_.reset(event);
  e.rights_ = AccessRights(kEventRights, access);
  e.what_ = std::move(what);
  return e;
}

void Event::set() const {
  const std::string call = "SetEvent(" + what_ + ")";
  rights_.require(EVENT_MODIFY_STATE, call);
  if (!SetEvent(handle_.get())) throw_last_error(call);
}

void Event::set_or_log() const noexcept {
  try {
    set();
  } catch (const std::exception& e) {
    TLOG(error) << e.what();
  }
}

void Event::reset() const {
  const std::string call = "ResetEvent(" + what_ + ")";
  rights_.require(EVENT_MODIFY_STATE, call);
  if (!ResetEvent(handle_.get())) throw_last_error(call);
}

bool Event::wait(std::chrono::milliseconds timeout) const {
  const std::string call = "WaitForSingleObject(" + what_ + ")";
  const DWORD r = WaitForSingleObject(waitable(call), wait_ms(timeout));
  if (r == WAIT_FAILED) throw_last_error(call);
  return r == WAIT_OBJECT_0;
}

HANDLE Event::waitable(const std::string& call) const {
  rights_.require(SYNCHRONIZE, call);
  return handle_.get();
}

HANDLE Event::signalled_by(const std::string& call) const {
  rights_.require(EVENT_MODIFY_STATE, call);
  return handle_.get();
}

}  // namespace tandem::win32
