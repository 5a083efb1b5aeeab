// One accepted HTTP connection between requests. No cpp-httplib here.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "service/http/native_socket.h"

namespace tandem::http {

using Clock = std::chrono::steady_clock;

// The socket, the bytes read ahead of the request being parsed (a pipelined next request, or the
// part of one that has arrived), and the times by which the next byte or the whole request must
// be in. Owns the socket: destroying it closes the connection.
struct Connection {
  explicit Connection(NativeSocket s);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Shuts down sending, then closes; with `drain`, first reads (for up to 100 ms) what the client
  // is still sending, so that the kernel does not reset the connection under our last answer.
  void close(bool drain);
  bool open() const { return open_; }

  NativeSocket socket;
  int listener = 0;  // index of the listener that accepted it
  std::string remote_address;
  int remote_port = 0;
  std::string local_address;
  int local_port = 0;

  std::string pending;
  std::size_t requests_served = 0;
  Clock::time_point idle_deadline = Clock::time_point::max();     // no byte of a request by then
  Clock::time_point request_deadline = Clock::time_point::max();  // request started, not complete

 private:
  bool open_ = true;
};

// Whether `pending` holds a request a worker can parse without waiting on the client: its head,
// and its body when a Content-Length of at most `body_limit` announces one. Heads longer than
// `head_limit`, chunked bodies and "Expect" requests are handed over at once (the worker reads
// the rest under the request deadline, and cpp-httplib refuses what is too long).
bool request_arrived(std::string_view pending, std::size_t body_limit, std::size_t head_limit);

}  // namespace tandem::http
