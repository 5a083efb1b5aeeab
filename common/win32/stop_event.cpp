#include "common/win32/stop_event.h"

namespace tandem::win32 {

StopEvent::StopEvent(std::stop_token token) : event_(Event(Event::Reset::manual, "stop request")) {
  callback_.emplace(std::move(token), Set{&event_});
}

}  // namespace tandem::win32
