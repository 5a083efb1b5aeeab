// The HTTP listener of TandemLlm: 127.0.0.1 and ::1 on one port (both or neither), every request
// handed to one Handler. cpp-httplib stays inside http_server.cpp.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "service/http/http_types.h"

namespace tandem::http {

struct ServerOptions {
  std::size_t max_body_bytes = 16 * 1024 * 1024;  // larger bodies get 413
  // Shared by both addresses; a connection holds one only while a request is being answered.
  std::size_t worker_threads = 8;
  // Between connection and request, connections wait in one polling thread, not on a worker.
  // A request must arrive whole within request_timeout of its first byte, else 408 and close;
  // each read of a body too large for that thread to collect is bounded by read_timeout too.
  std::chrono::milliseconds request_timeout{10'000};
  std::chrono::milliseconds read_timeout{5'000};
  std::chrono::milliseconds write_timeout{30'000};
  std::size_t keep_alive_max_count = 1000;     // requests per connection before it is closed
  std::chrono::seconds keep_alive_timeout{5};  // an idle connection is closed after it
  // After stop(), streamed responses may run this long before their ChunkWriter returns false.
  std::chrono::milliseconds stop_grace{5'000};
  // start() fails if the accept loops are not running within this bound.
  std::chrono::milliseconds start_timeout{10'000};
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, Handler handler);
  ~HttpServer();  // stops
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds 127.0.0.1 and ::1 exclusively on the first port of first_port .. first_port+range-1
  // where both binds succeed, and returns it. Throws tandem::Error naming every port tried and
  // why each address failed; a failure no other port can cure (no IPv6, say) throws at once.
  std::uint16_t listen(std::uint16_t first_port, int range);

  // Serves in background threads; returns once both addresses are accepting.
  void start();

  // Stops accepting, lets requests in flight finish (streams are cut after stop_grace), joins.
  void stop();

  std::uint16_t port() const;  // 0 before listen() and after stop()

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tandem::http
