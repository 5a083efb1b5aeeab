#include "service/api/sse.h"

namespace tandem::api {

std::string sse_event(std::string_view data) {
  std::string event;
  event.reserve(data.size() + 8);
  event += "data: ";
  event += data;
  event += "\n\n";
  return event;
}

bool SseWriter::send(std::string_view chunk) {
  if (open_ && !write_(chunk)) open_ = false;
  return open_;
}

}  // namespace tandem::api
