// The trainer's way to call TandemLlm (docs/architecture.md#why-it-is-built-this-way): separate
// connect/read timeouts, keep-alive, retries with exponential backoff and jitter for idempotent
// requests, and a fresh resolve after every connection failure, since a restarted server may sit
// on another port. Every failure is logged with what was tried.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <stop_token>
#include <string>

#include "common/discovery/resolver.h"
#include "common/error.h"
#include "common/http_client.h"

namespace tandem::trainer {

struct LlmClientOptions {
  HttpClientOptions http;
  int max_retries = 8;  // attempts after the first one; 0 means a single attempt
  // How long to wait for the server to become ready when it cannot be resolved.
  std::chrono::milliseconds resolve_timeout{120'000};
  std::chrono::milliseconds backoff_base{200};
  std::chrono::milliseconds backoff_max{10'000};  // also caps a server's Retry-After
  std::uint64_t jitter_seed = 0;                  // 0: seeded from std::random_device
};

// Waits `delay`, or throws Stopped as soon as `stop` is requested (also when it already was).
// Not condition_variable_any's stop_token overloads: see the .cpp for the MinGW deadlock.
void wait_unless_stopped(std::chrono::milliseconds delay, std::stop_token stop);

// Exponential backoff with "equal jitter": retry n (from 0) waits d/2 + uniform[0, d/2] where
// d = min(max, base * 2^n). Not "full jitter" (uniform[0, d]): there is one trainer per server,
// so spreading clients matters less than each of the few allowed retries giving a restarting
// server real time; half of d is guaranteed. The sequence depends only on the seed
// (std::mt19937_64 is the same everywhere; no distribution object is involved).
class Backoff {
 public:
  Backoff(std::chrono::milliseconds base, std::chrono::milliseconds max, std::uint64_t seed);
  std::chrono::milliseconds delay(int retry);

 private:
  std::chrono::milliseconds base_;
  std::chrono::milliseconds max_;
  std::mt19937_64 rng_;
};

// The server understood the request and refused it (4xx): retrying cannot help.
class RequestRefused : public Error {
 public:
  RequestRefused(int status, const std::string& message) : Error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

struct LlmClientCounters {
  std::uint64_t requests = 0;    // post_json calls
  std::uint64_t retries = 0;     // attempts after a failed one
  std::uint64_t reconnects = 0;  // connection failures, each followed by a fresh resolve
};

// post_json() is for one caller at a time (the job thread); endpoint() and counters() may be read
// from any thread (the trainer's status).
class LlmClient {
 public:
  LlmClient(discovery::Resolver& resolver, LlmClientOptions options);
  ~LlmClient();
  LlmClient(const LlmClient&) = delete;
  LlmClient& operator=(const LlmClient&) = delete;

  // An idempotent POST: answers the first 2xx. Throws RequestRefused for a 4xx (with the server's
  // error.message), Stopped when `stop` is requested while waiting, and ServerUnavailable naming
  // the attempts, the time spent, the last failure and the last resolve when the server stays
  // unreachable past max_retries or resolve_timeout.
  HttpResult post_json(const std::string& path, const std::string& body, std::stop_token stop);

  // Drops the endpoint in use and resolves afresh (waiting within resolve_timeout), for callers
  // that hand the URL on and cannot be told when it changes (a command job's program). Throws
  // ServerUnavailable when the wait runs out, Stopped on a stop.
  discovery::Endpoint resolve_again(std::stop_token stop);

  std::optional<discovery::Endpoint> endpoint() const;
  LlmClientCounters counters() const;

 private:
  HttpClient& connect(std::stop_token stop);
  discovery::Endpoint wait_ready(std::stop_token stop);
  void use(std::optional<discovery::Endpoint> endpoint);

  discovery::Resolver& resolver_;
  LlmClientOptions options_;
  Backoff backoff_;
  std::unique_ptr<HttpClient> client_;
  std::string last_resolve_ = "not resolved yet";

  mutable std::mutex endpoint_mutex_;
  std::optional<discovery::Endpoint> endpoint_;

  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> retries_{0};
  std::atomic<std::uint64_t> reconnects_{0};
};

}  // namespace tandem::trainer
