// TandemLlm's service body running in the test process (real sockets, real llama.cpp on the tiny
// model), its publications recorded instead of written to a registry: a live server for native
// tests of its clients, and a Resolver that finds it the way the trainer's would.
#pragma once

#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/discovery/resolver.h"
#include "common/error.h"
#include "common/files.h"
#include "service/llm_service.h"
#include "tests/support/loopback_socket.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tiny_model.h"

namespace tandem::testing {

// The endpoints a server published, in order: starting, ready, and a `stopped` one on withdraw.
struct PublicationRecorder {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<discovery::Endpoint> events;

  void add(discovery::Endpoint e) {
    {
      std::lock_guard lock(mutex);
      events.push_back(std::move(e));
    }
    changed.notify_all();
  }
  bool wait_for(std::size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, timeout, [&] { return events.size() >= count; });
  }
};

class RecordingPublisher final : public discovery::Publisher {
 public:
  explicit RecordingPublisher(PublicationRecorder& r) : r_(r) {}
  void starting(const discovery::Endpoint& e) override { r_.add(e); }
  void ready(const discovery::Endpoint& e) override { r_.add(e); }
  void withdraw() override {
    discovery::Endpoint e;
    e.state = discovery::State::stopped;
    r_.add(e);
  }

 private:
  PublicationRecorder& r_;
};

class QuietStatus final : public ServiceStatus {
 public:
  void starting(std::chrono::milliseconds) override {}
  void running() override {}
  void stopping(std::chrono::milliseconds) override {}
};

class InProcessLlm {
 public:
  // Starts the server and waits until it publishes `ready`. Its models folder is <its dir>/models
  // unless `config` names one; `customise` may change the options further (a watch, a memory
  // probe).
  explicit InProcessLlm(const nlohmann::json& config = nlohmann::json::object(),
                        const std::function<void(llm::ServiceOptions&)>& customise = {}) {
    const std::uint16_t port = find_free_ports(4);
    nlohmann::json c = {{"port", port}, {"port_range", 4}, {"ctx_size", 256}, {"threads", 1}};
    c.update(config);
    write_file_atomically(dir_ / "llm-server.json", c.dump());
    llm::ServiceOptions o;
    o.config_file = dir_ / "llm-server.json";
    o.default_model = tiny_model_path();
    o.pipe_name = "in-process";
    o.make_publisher = [this](const discovery::Endpoint&) {
      return std::make_unique<RecordingPublisher>(recorder_);
    };
    o.models_dir = dir_ / "models";
    if (customise) customise(o);
    run_ = std::async(std::launch::async, [this, o] {
      QuietStatus status;
      return llm::run_llm_service(status, stop_, o);
    });
    if (!recorder_.wait_for(2, std::chrono::seconds(120))) {
      stop_.request();
      throw std::runtime_error("the in-process LLM server never became ready");
    }
  }
  ~InProcessLlm() { stop(); }
  InProcessLlm(const InProcessLlm&) = delete;
  InProcessLlm& operator=(const InProcessLlm&) = delete;

  discovery::Endpoint endpoint() {
    std::lock_guard lock(recorder_.mutex);
    return recorder_.events.at(1);
  }
  std::filesystem::path config_file() const { return dir_ / "llm-server.json"; }

  // Waits (bounded) for a publication that `match` accepts; true when one came.
  bool wait_publication(const std::function<bool(const discovery::Endpoint&)>& match,
                        std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::unique_lock lock(recorder_.mutex);
    return recorder_.changed.wait_for(lock, timeout, [&] {
      for (const auto& e : recorder_.events) {
        if (match(e)) return true;
      }
      return false;
    });
  }
  // Ends the server (the port closes); returns its exit code.
  int stop() {
    if (!run_.valid()) return 0;
    stop_.request();
    return run_.get();
  }

 private:
  TempDir dir_;
  PublicationRecorder recorder_;
  StopSignal stop_;
  std::future<int> run_;
};

// A Resolver a test controls: it answers with whatever endpoint was set (none: not ready), and
// wait_ready wakes when one is set, a stop is requested, or the timeout runs out.
class ScriptedResolver final : public discovery::Resolver {
 public:
  void set(std::optional<discovery::Endpoint> endpoint) {
    {
      std::lock_guard lock(mutex_);
      endpoint_ = std::move(endpoint);
    }
    changed_.notify_all();
  }
  std::optional<discovery::Endpoint> resolve(std::string& why) override {
    std::lock_guard lock(mutex_);
    ++resolves_;
    if (!endpoint_) why = "the test has not set an endpoint";
    return endpoint_;
  }
  discovery::Endpoint wait_ready(std::chrono::milliseconds timeout, std::stop_token stop) override {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, stop, timeout, [this] { return endpoint_.has_value(); })) {
      if (stop.stop_requested()) throw StopRequested();
      throw Error("TandemLlm was not ready within " + std::to_string(timeout.count()) +
                  " ms: the test has not set an endpoint");
    }
    return *endpoint_;
  }
  int resolves() const {
    std::lock_guard lock(mutex_);
    return resolves_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable_any changed_;
  std::optional<discovery::Endpoint> endpoint_;
  int resolves_ = 0;
};

}  // namespace tandem::testing
