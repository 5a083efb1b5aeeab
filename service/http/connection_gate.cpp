#include "service/http/connection_gate.h"

#include <algorithm>
#include <string>
#include <utility>

#include "common/log.h"
#include "service/http/error_body.h"

namespace tandem::http {

namespace {

// The whole 408 goes out in one send() or not at all: the gate never blocks on a client.
void send_request_timeout(Connection& c, std::chrono::milliseconds limit) {
  const Response e = error_response(
      408, "request not received in full within " + std::to_string(limit.count()) + " ms",
      "request_timeout");
  const std::string reply = "HTTP/1.1 408 Request Timeout\r\nContent-Type: " + e.content_type +
                            "\r\nContent-Length: " + std::to_string(e.body.size()) +
                            "\r\nConnection: close\r\n\r\n" + e.body;
  if (net::wait_writable(c.socket, std::chrono::milliseconds(0)) > 0) {
    (void)net::send_some(c.socket, reply.data(), reply.size());
  }
}

}  // namespace

ConnectionGate::ConnectionGate(GateOptions options, Ready ready)
    : options_(options),
      ready_(std::move(ready)),
      wake_socket_(net::loopback_wake_socket("the connection gate's wake-up socket")) {
  thread_ = std::thread([this] { run(); });
}

ConnectionGate::~ConnectionGate() {
  stop();
  net::close(wake_socket_);
}

void ConnectionGate::park(std::shared_ptr<Connection> c) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      incoming_.push_back(std::move(c));
      c.reset();
    }
  }
  if (c) {
    c->close(false);
    return;
  }
  wake();
}

void ConnectionGate::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake();
  if (thread_.joinable()) thread_.join();
}

void ConnectionGate::wake() {
  const char byte = 0;
  (void)net::send_some(wake_socket_, &byte, 1);
}

bool ConnectionGate::step(const std::shared_ptr<Connection>& c, bool readable,
                          Clock::time_point now) {
  if (readable) {
    char chunk[16384];
    const long n = net::receive(c->socket, chunk, sizeof(chunk));
    if (n <= 0) {  // closed by the client, or reset
      c->close(false);
      return false;
    }
    if (c->pending.empty() && c->request_deadline == Clock::time_point::max()) {
      c->request_deadline = now + options_.request_timeout;
    }
    c->pending.append(chunk, static_cast<std::size_t>(n));
    if (request_arrived(c->pending, options_.body_limit, options_.head_limit)) {
      ready_(c);
      return false;
    }
  }
  // Checked after reading too: a client that sends a byte at a time is always readable.
  if (!c->pending.empty() && now >= c->request_deadline) {
    TLOG(debug) << "HTTP: request from " << c->remote_address << " port " << c->remote_port
                << " incomplete after " << options_.request_timeout.count() << " ms: 408";
    send_request_timeout(*c, options_.request_timeout);
    c->close(false);
    return false;
  }
  if (c->pending.empty() && now >= c->idle_deadline) {
    c->close(false);
    return false;
  }
  return true;
}

void ConnectionGate::run() {
  std::vector<net::Polled> polled;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
      for (auto& c : incoming_) parked_.push_back(std::move(c));
      incoming_.clear();
    }
    // No connection parked, no deadline: it sleeps until the wake socket or a client speaks.
    auto next = Clock::time_point::max();
    polled.assign(1, {wake_socket_});
    for (const auto& c : parked_) {
      polled.push_back({c->socket});
      next = std::min(next, c->pending.empty() ? c->idle_deadline : c->request_deadline);
    }
    const int r = net::wait_any_readable(
        polled, next == Clock::time_point::max()
                    ? net::kNoTimeout
                    : std::chrono::ceil<std::chrono::milliseconds>(next - Clock::now()));
    if (r < 0) {
      TLOG(warning) << "HTTP: connection gate poll failed (error " << net::last_error() << ")";
    }
    if (polled[0].readable) {
      char drain[64];
      while (net::wait_readable(wake_socket_, std::chrono::milliseconds(0)) > 0 &&
             net::receive(wake_socket_, drain, sizeof(drain)) > 0) {
      }
    }
    const auto now = Clock::now();
    std::vector<std::shared_ptr<Connection>> kept;
    kept.reserve(parked_.size());
    for (std::size_t i = 0; i < parked_.size(); ++i) {
      if (step(parked_[i], polled[i + 1].readable, now)) kept.push_back(std::move(parked_[i]));
    }
    parked_ = std::move(kept);
  }
  std::lock_guard lock(mutex_);
  for (auto& c : parked_) c->close(false);
  for (auto& c : incoming_) c->close(false);
  parked_.clear();
  incoming_.clear();
}

}  // namespace tandem::http
