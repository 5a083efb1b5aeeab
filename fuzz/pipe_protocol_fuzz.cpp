// The pipe protocol codec: the server answers any message with one decodable response (never a
// throw); a request that parses encodes back to itself; a response that decodes re-encodes to
// one that decodes to the same value.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

#include "common/discovery/protocol.h"
#include "common/discovery/publication_state.h"
#include "common/discovery/request_handler.h"
#include "fuzz/fuzz_check.h"

namespace {

using namespace tandem::discovery;

const PublicationState& ready_state() {
  static PublicationState* state = [] {
    auto* s = new PublicationState();
    Endpoint e;
    e.port = 8031;
    e.url = loopback_url(8031);
    e.addresses = loopback_addresses();
    e.pid = 4242;
    e.instance_id = "instance";
    e.model = "tandem-tiny";
    s->publish_ready(e);
    return s;
  }();
  return *state;
}

bool same(const Endpoint& a, const Endpoint& b) {
  return a.state == b.state && a.port == b.port && a.url == b.url && a.addresses == b.addresses &&
         a.pid == b.pid && a.instance_id == b.instance_id && a.model == b.model;
}

void server_side(std::string_view message) {
  bool parsed = true;
  std::string refusal;
  try {
    Request request = parse_request(message);
    Request again = parse_request(encode_request(request));
    TANDEM_FUZZ_CHECK(again.op == request.op && again.timeout == request.timeout,
                      encode_request(request));
  } catch (const ProtocolError& e) {
    parsed = false;
    refusal = e.what();
    TANDEM_FUZZ_CHECK(!refusal.empty(), "empty refusal");
    TANDEM_FUZZ_CHECK(e.code() == kBadRequest || e.code() == kUnsupportedVersion, e.code());
  }
  // The state is ready, so even a `wait` answers at once.
  const std::string answer = handle_request(ready_state(), message);
  Response response;
  try {
    response = decode_response(answer);
  } catch (const std::exception& e) {
    TANDEM_FUZZ_CHECK(false, std::string("the server's answer does not decode: ") + e.what());
  }
  TANDEM_FUZZ_CHECK(response.ok() == parsed, answer);
  if (!parsed) {
    TANDEM_FUZZ_CHECK(response.error && !response.error->message.empty(), answer);
    TANDEM_FUZZ_CHECK(
        response.error->code == kBadRequest || response.error->code == kUnsupportedVersion, answer);
  }
}

void client_side(std::string_view message) {
  Response response;
  try {
    response = decode_response(message);
  } catch (const tandem::Error& e) {
    const std::string what = e.what();
    TANDEM_FUZZ_CHECK(what.rfind("pipe response: ", 0) == 0 && what.size() > 15, what);
    return;
  } catch (const std::exception& e) {
    TANDEM_FUZZ_CHECK(false, std::string("not a tandem::Error: ") + e.what());
  }
  TANDEM_FUZZ_CHECK(response.ok() != response.error.has_value(), std::string(message));
  const std::string encoded = response.ok()
                                  ? encode_endpoint(*response.endpoint)
                                  : encode_error(response.error->code, response.error->message);
  if (encoded.size() > kMaxMessageBytes) return;
  Response again;
  try {
    again = decode_response(encoded);
  } catch (const std::exception& e) {
    TANDEM_FUZZ_CHECK(
        false, std::string("re-encoded response does not decode: ") + e.what() + "\n  " + encoded);
  }
  if (response.ok()) {
    TANDEM_FUZZ_CHECK(again.ok() && same(*again.endpoint, *response.endpoint), encoded);
  } else {
    TANDEM_FUZZ_CHECK(again.error && again.error->code == response.error->code &&
                          again.error->message == response.error->message,
                      encoded);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view message(reinterpret_cast<const char*>(data), size);
  server_side(message);
  client_side(message);
  return 0;
}
