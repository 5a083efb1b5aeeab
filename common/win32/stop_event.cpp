#include "common/win32/stop_event.h"

#include "common/win32/error.h"

namespace tandem::win32 {

StopEvent::StopEvent(std::stop_token token) : event_(CreateEventW(nullptr, TRUE, FALSE, nullptr)) {
  if (!event_) throw_last_error("CreateEventW(stop)");
  callback_.emplace(std::move(token), Set{event_.get()});
}

}  // namespace tandem::win32
