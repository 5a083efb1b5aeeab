#include "common/discovery/request_handler.h"

#include "common/discovery/protocol.h"

namespace tandem::discovery {

std::string handle_request(const PublicationState& state, std::string_view message,
                           std::stop_token stop) {
  Request request;
  try {
    request = parse_request(message);
  } catch (const ProtocolError& e) {
    return encode_error(e.code(), e.what());
  }
  if (request.op != Op::wait) return encode_endpoint(state.current());

  if (auto ready = state.wait_until_ready(request.timeout, stop)) return encode_endpoint(*ready);
  const Endpoint now = state.current();
  if (stop.stop_requested()) return encode_error(kNotReady, "the server is shutting down");
  if (now.state != State::starting) {
    return encode_error(kNotReady, "the server is " + std::string(state_name(now.state)) +
                                       " and will not turn ready; resolve again");
  }
  return encode_error(kTimeout, "not ready within " + std::to_string(request.timeout.count()) +
                                    " ms (state: " + std::string(state_name(now.state)) + ")");
}

}  // namespace tandem::discovery
