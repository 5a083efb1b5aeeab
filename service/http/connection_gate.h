// Holds HTTP connections while their next request arrives, so that no worker thread waits on a
// client: one thread polls them all, and hands a connection to the workers only once a whole
// request (head, and a small body) is in. A connection idle past the keep-alive timeout is
// closed; one whose request has started but not arrived by the request deadline gets 408 and is
// closed. Slow clients (slowloris) thus cost a socket and a buffer each, never a worker.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "service/http/connection.h"

namespace tandem::http {

struct GateOptions {
  std::chrono::milliseconds keep_alive_timeout{5'000};
  std::chrono::milliseconds request_timeout{10'000};
  std::size_t body_limit = 1 << 20;  // bodies up to this are read here, larger ones by a worker
  std::size_t head_limit = 64 << 10;
};

class ConnectionGate {
 public:
  // Called on the gate's thread with each connection whose request has arrived.
  using Ready = std::function<void(std::shared_ptr<Connection>)>;

  // Starts the thread; throws tandem::Error if its wake-up socket cannot be made.
  ConnectionGate(GateOptions options, Ready ready);
  ~ConnectionGate();  // stops
  ConnectionGate(const ConnectionGate&) = delete;
  ConnectionGate& operator=(const ConnectionGate&) = delete;

  // Watches `c` until its request is in; its deadlines must be set. After stop() closes it.
  void park(std::shared_ptr<Connection> c);

  // Closes every connection held and joins the thread.
  void stop();

 private:
  void run();
  void wake();
  // Handles one parked connection's poll result; false once it left the gate.
  bool step(const std::shared_ptr<Connection>& c, bool readable, Clock::time_point now);

  GateOptions options_;
  Ready ready_;
  NativeSocket wake_socket_;
  std::mutex mutex_;
  std::vector<std::shared_ptr<Connection>> incoming_;  // guarded by mutex_
  bool stopping_ = false;                              // guarded by mutex_
  std::vector<std::shared_ptr<Connection>> parked_;    // the gate thread's own
  std::thread thread_;
};

}  // namespace tandem::http
