// Server-Sent Events as OpenAI streams them: one "data: {json}\n\n" per chunk and
// "data: [DONE]\n\n" at the end. Once the client has gone, nothing more is written.
#pragma once

#include <string>
#include <string_view>

#include "service/api/openai_json.h"
#include "service/http/http_types.h"

namespace tandem::api {

// One event carrying `data` (which must hold no newline; compact JSON never does).
std::string sse_event(std::string_view data);

class SseWriter {
 public:
  explicit SseWriter(const http::ChunkWriter& write) : write_(write) {}

  // Each returns false once the client has gone away (then and for every later call).
  bool event(const Json& value) { return send(sse_event(json_text(value))); }
  bool done() { return send(sse_event("[DONE]")); }
  // A comment line: keeps an idle stream's connection open and finds a client that has gone.
  bool keep_alive() { return send(": keep-alive\n\n"); }
  bool open() const { return open_; }

 private:
  bool send(std::string_view chunk);

  const http::ChunkWriter& write_;
  bool open_ = true;
};

}  // namespace tandem::api
