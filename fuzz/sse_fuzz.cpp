// The SSE writer: whatever JSON (or raw bytes as a string) goes in, each event is one
// "data: <compact JSON>\n\n" frame with no newline inside, that parses back to the value (exactly,
// when its strings were valid UTF-8); and once the client has gone nothing more is written.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "service/api/sse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using tandem::api::Json;
  if (size == 0) return 0;
  // First byte: after how many chunks the client goes away.
  const std::size_t accept = data[0] % 5;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  Json value = Json::parse(input, nullptr, false);
  if (value.is_discarded()) value = Json{{"text", std::string(input)}};

  const std::string text = tandem::api::json_text(value);
  TANDEM_FUZZ_CHECK(text.find('\n') == std::string::npos && text.find('\r') == std::string::npos,
                    text);
  const std::string event = tandem::api::sse_event(text);
  TANDEM_FUZZ_CHECK(event == "data: " + text + "\n\n", event);
  Json back = Json::parse(event.substr(6, event.size() - 8), nullptr, false);
  TANDEM_FUZZ_CHECK(!back.is_discarded(), event);
  bool strict_ok = true;
  try {
    (void)value.dump();
  } catch (const Json::type_error&) {
    strict_ok = false;
  }
  if (strict_ok) TANDEM_FUZZ_CHECK(back == value, event);

  std::size_t written = 0;
  std::size_t calls_after_gone = 0;
  bool gone = false;
  tandem::http::ChunkWriter write = [&](std::string_view chunk) {
    if (gone) ++calls_after_gone;
    TANDEM_FUZZ_CHECK(chunk.substr(0, 6) == "data: " && chunk.size() >= 8 &&
                          chunk.substr(chunk.size() - 2) == "\n\n",
                      std::string(chunk));
    if (written == accept) {
      gone = true;
      return false;
    }
    ++written;
    return true;
  };
  tandem::api::SseWriter writer(write);
  for (int i = 0; i < 3; ++i) {
    const bool open = writer.event(value);
    TANDEM_FUZZ_CHECK(open == (static_cast<std::size_t>(i) < accept), std::to_string(i));
  }
  const bool done_open = writer.done();
  TANDEM_FUZZ_CHECK(done_open == (accept >= 4) && writer.open() == done_open, "done()");
  TANDEM_FUZZ_CHECK(calls_after_gone == 0, "wrote after the client had gone");
  return 0;
}
