// The LLM server's side of the pipe protocol: one request message in, one response message out.
// Transport-free, so the Win32 pipe and the POSIX socket answer exactly alike.
#pragma once

#include <stop_token>
#include <string>
#include <string_view>

#include "common/discovery/publication_state.h"

namespace tandem::discovery {

// resolve, status: the current state at once (port, url and addresses only while ready).
// wait: the ready endpoint as soon as there is one; error `timeout` when timeout_ms runs out;
//       error `not_ready` when the server is stopping (it will never turn ready) or `stop` is
//       requested (the transport is shutting down: this is how a pipe server interrupts a wait).
// Anything malformed: error `bad_request` (or `unsupported_version`) naming the field.
// Never throws for anything a client sends. Safe to call from many threads at once.
std::string handle_request(const PublicationState& state, std::string_view message,
                           std::stop_token stop = {});

}  // namespace tandem::discovery
