// Test doubles for the trainer's LLM client: a real loopback HTTP server whose answers the test
// scripts, and a Resolver whose publication the test controls.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>

#include "common/discovery/resolver.h"
#include "common/error.h"

namespace tandem::testing {

// POST anything on 127.0.0.1:<free port>, answered by `handler` on the server's threads.
class ScriptedServer {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  explicit ScriptedServer(Handler handler) : handler_(std::move(handler)) {
    server_.set_keep_alive_timeout(1);
    server_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      ++hits_;
      handler_(req, res);
    });
    const int port = server_.bind_to_any_port("127.0.0.1");
    if (port <= 0) throw std::runtime_error("test server could not bind 127.0.0.1");
    port_ = static_cast<std::uint16_t>(port);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    server_.wait_until_ready();
  }
  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;
  ~ScriptedServer() { stop(); }

  // Closes the listener and every keep-alive connection; the port refuses from then on.
  void stop() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::uint16_t port() const { return port_; }
  int hits() const { return hits_.load(); }

 private:
  Handler handler_;
  httplib::Server server_;
  std::uint16_t port_ = 0;
  std::atomic<int> hits_{0};
  std::thread thread_;
};

inline void reply_json(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "application/json");
}

// Answers what the test last published; wait_ready() blocks until something is published.
class ScriptedResolver final : public discovery::Resolver {
 public:
  void publish(std::uint16_t port, const std::string& instance = "test-instance") {
    discovery::Endpoint e;
    e.state = discovery::State::ready;
    e.port = port;
    e.url = "http://127.0.0.1:" + std::to_string(port);
    e.addresses = {"127.0.0.1"};
    e.instance_id = instance;
    e.pid = 4242;
    {
      std::lock_guard lock(mutex_);
      current_ = e;
    }
    changed_.notify_all();
  }
  void withdraw(const std::string& why) {
    std::lock_guard lock(mutex_);
    current_.reset();
    why_ = why;
  }
  // Runs in the caller's thread at the start of every wait_ready() (the server "starting up").
  void on_wait(std::function<void()> hook) {
    std::lock_guard lock(mutex_);
    on_wait_ = std::move(hook);
  }

  std::optional<discovery::Endpoint> resolve(std::string& why) override {
    std::lock_guard lock(mutex_);
    ++resolves_;
    if (!current_) why = why_;
    return current_;
  }
  discovery::Endpoint wait_ready(std::chrono::milliseconds timeout, std::stop_token stop) override {
    std::function<void()> hook;
    {
      std::lock_guard lock(mutex_);
      ++waits_;
      hook = on_wait_;
    }
    if (hook) hook();
    // Not condition_variable_any's stop_token overloads, which can deadlock with MinGW g++ 12
    // (see trainer/llm_client.cpp): the callback is never destroyed while it runs.
    bool stopped = false;
    std::atomic<bool> callback_done{false};
    std::optional<discovery::Endpoint> found;
    {
      std::stop_callback wake(stop, [&] {
        {
          std::lock_guard lock(mutex_);
          stopped = true;
        }
        changed_.notify_all();
        callback_done.store(true);
      });
      {
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, timeout, [&] { return stopped || current_.has_value(); });
        found = current_;
      }
      if (stop.stop_requested()) {
        while (!callback_done.load()) std::this_thread::yield();
      }
    }
    if (stop.stop_requested()) throw StopRequested();
    if (!found) {
      std::lock_guard lock(mutex_);
      throw Error("not ready within " + std::to_string(timeout.count()) + " ms: " + why_);
    }
    return *found;
  }

  int resolves() const {
    std::lock_guard lock(mutex_);
    return resolves_;
  }
  int waits() const {
    std::lock_guard lock(mutex_);
    return waits_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<discovery::Endpoint> current_;
  std::string why_ = "nothing published";
  std::function<void()> on_wait_;
  int resolves_ = 0;
  int waits_ = 0;
};

}  // namespace tandem::testing
