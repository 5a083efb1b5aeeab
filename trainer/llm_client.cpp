#include "trainer/llm_client.h"

#include <algorithm>
#include <condition_variable>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/log.h"
#include "trainer/teacher.h"

namespace tandem::trainer {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::uint64_t random_seed() {
  std::random_device device;
  return (std::uint64_t{device()} << 32) ^ device();
}

long long elapsed_ms(Clock::time_point since) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - since).count();
}

// The OpenAI-shaped error.message of a response, else the start of its body.
std::string server_message(const HttpResult& r) {
  auto json = nlohmann::json::parse(r.body, nullptr, false);
  if (json.is_object()) {
    auto error = json.find("error");
    if (error != json.end() && error->is_object()) {
      auto message = error->find("message");
      if (message != error->end() && message->is_string()) return message->get<std::string>();
    }
  }
  constexpr std::size_t kShown = 200;
  if (r.body.empty()) return "(empty body)";
  return r.body.size() <= kShown ? r.body : r.body.substr(0, kShown) + "...";
}

// Retry-After in seconds (the HTTP-date form is not used by TandemLlm and falls back to backoff),
// capped so a server cannot park the trainer longer than its own backoff would.
std::optional<milliseconds> retry_after(const std::string& value, milliseconds cap) {
  auto first = value.find_first_not_of(" \t");
  auto last = value.find_last_not_of(" \t");
  if (first == std::string::npos) return std::nullopt;
  std::string digits = value.substr(first, last - first + 1);
  if (digits.empty() || digits.size() > 9 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return std::min<milliseconds>(std::chrono::seconds(std::stoll(digits)), cap);
}

std::string describe(const discovery::Endpoint& e) {
  return e.url + " (instance " + e.instance_id + ", pid " + std::to_string(e.pid) + ")";
}

// The resolver's answer, with a failure to even look (a registry read, say) as the reason.
std::optional<discovery::Endpoint> try_resolve(discovery::Resolver& resolver, std::string& why) {
  try {
    return resolver.resolve(why);
  } catch (const Error& e) {
    why = e.what();
    return std::nullopt;
  }
}

void check_options(const LlmClientOptions& o) {
  auto fail = [](const std::string& what) { throw Error("LlmClient options: " + what); };
  if (o.max_retries < 0) fail("max_retries must be 0 or more");
  if (o.resolve_timeout < 0ms) fail("resolve_timeout must be 0 or more");
  if (o.backoff_base < 0ms || o.backoff_max < o.backoff_base)
    fail("need 0 <= backoff_base <= backoff_max");
}

}  // namespace

void wait_unless_stopped(milliseconds delay, std::stop_token stop) {
  std::mutex mutex;
  std::condition_variable woken;
  bool stopped = false;
  std::atomic<bool> callback_done{false};
  {
    std::stop_callback wake(stop, [&] {
      {
        std::lock_guard lock(mutex);
        stopped = true;
      }
      woken.notify_all();
      callback_done.store(true, std::memory_order_release);
    });
    {
      std::unique_lock lock(mutex);
      woken.wait_for(lock, delay, [&] { return stopped; });
    }
    // ~stop_callback must not have to wait for the callback to finish in the stopping thread:
    // with MinGW g++ 12 that wait can hang for good (measured under Wine, also through
    // condition_variable_any's stop_token overloads). So once a stop is seen, let the callback
    // finish first; it is a few instructions long.
    if (stop.stop_requested()) {
      while (!callback_done.load(std::memory_order_acquire)) std::this_thread::yield();
    }
  }
  if (stop.stop_requested()) throw Stopped();
}

Backoff::Backoff(milliseconds base, milliseconds max, std::uint64_t seed)
    : base_(base), max_(max), rng_(seed == 0 ? random_seed() : seed) {}

milliseconds Backoff::delay(int retry) {
  auto d = base_.count();
  for (int i = 0; i < retry && d < max_.count(); ++i) d *= 2;
  d = std::min(d, max_.count());
  if (d <= 0) return 0ms;
  const auto half = d / 2;
  const auto spread = static_cast<std::uint64_t>(d - half) + 1;
  return milliseconds(half + static_cast<long long>(rng_() % spread));
}

LlmClient::LlmClient(discovery::Resolver& resolver, LlmClientOptions options)
    : resolver_(resolver),
      options_((check_options(options), std::move(options))),
      backoff_(options_.backoff_base, options_.backoff_max, options_.jitter_seed) {}

LlmClient::~LlmClient() = default;

std::optional<discovery::Endpoint> LlmClient::endpoint() const {
  std::lock_guard lock(endpoint_mutex_);
  return endpoint_;
}

LlmClientCounters LlmClient::counters() const {
  return {requests_.load(), retries_.load(), reconnects_.load()};
}

void LlmClient::use(std::optional<discovery::Endpoint> endpoint) {
  if (endpoint) {
    client_ = std::make_unique<HttpClient>(endpoint->url, options_.http);
    last_resolve_ = "resolved " + describe(*endpoint);
  } else {
    client_.reset();
  }
  std::lock_guard lock(endpoint_mutex_);
  endpoint_ = std::move(endpoint);
}

HttpClient& LlmClient::connect(std::stop_token stop) {
  if (client_) return *client_;
  std::string why;
  auto found = try_resolve(resolver_, why);
  if (!found) {
    last_resolve_ = why;
    found = wait_ready(stop);
  }
  TLOG(info) << "TandemLlm is at " << describe(*found);
  use(std::move(found));
  return *client_;
}

discovery::Endpoint LlmClient::wait_ready(std::stop_token stop) {
  TLOG(info) << "waiting up to " << options_.resolve_timeout.count()
             << " ms for TandemLlm to be ready: " << last_resolve_;
  try {
    return resolver_.wait_ready(options_.resolve_timeout, stop);
  } catch (const Stopped&) {
    throw;
  } catch (const Error& e) {
    last_resolve_ = e.what();
    throw;
  }
}

discovery::Endpoint LlmClient::resolve_again(std::stop_token stop) {
  use(std::nullopt);
  try {
    connect(stop);
  } catch (const Stopped&) {
    throw;
  } catch (const Error& e) {
    throw ServerUnavailable(e.what());
  }
  return *endpoint();
}

HttpResult LlmClient::post_json(const std::string& path, const std::string& body,
                                std::stop_token stop) {
  ++requests_;
  const int attempts = options_.max_retries + 1;
  const auto started = Clock::now();
  std::string last_failure;
  auto gave_up = [&] {
    return ServerUnavailable("POST " + path + " to TandemLlm: gave up after " +
                             std::to_string(attempts) + " attempt(s) over " +
                             std::to_string(elapsed_ms(started)) + " ms" +
                             (last_failure.empty() ? "" : "; last failure: " + last_failure) +
                             "; last resolve: " + last_resolve_);
  };
  for (int attempt = 1;; ++attempt) {
    if (stop.stop_requested()) throw Stopped();
    HttpClient* client = nullptr;
    try {
      client = &connect(stop);
    } catch (const Stopped&) {
      throw;
    } catch (const Error& e) {
      // Past the resolve bound: the server is not coming back within what the config allows.
      throw ServerUnavailable("POST " + path + " to TandemLlm: attempt " + std::to_string(attempt) +
                              "/" + std::to_string(attempts) + " after " +
                              std::to_string(elapsed_ms(started)) + " ms: " + e.what() +
                              (last_failure.empty() ? "" : "; earlier failure: " + last_failure));
    }
    const std::string target = "POST " + client->base_url() + path;
    const std::string tried =
        " (attempt " + std::to_string(attempt) + "/" + std::to_string(attempts) + ")";
    std::optional<milliseconds> server_wait;
    bool connection_lost = false;
    try {
      HttpResult r = client->post_json(path, body);
      if (r.status >= 200 && r.status < 300) return r;
      const std::string message = server_message(r);
      if (r.status < 500) {
        std::string refused =
            target + " was refused with " + std::to_string(r.status) + ": " + message;
        TLOG(error) << refused << tried << "; not retried";
        throw RequestRefused(r.status, refused);
      }
      last_failure = target + " answered " + std::to_string(r.status) + ": " + message;
      if (r.status == 503) server_wait = retry_after(r.header("retry-after"), options_.backoff_max);
    } catch (const ConnectionClosed& e) {
      // Nothing was sent: ask where the server is now and try again as the same attempt (a
      // fresh client cannot throw this, so it happens once per attempt at most).
      ++reconnects_;
      use(std::nullopt);
      TLOG(info) << e.what() << "; resolving TandemLlm again";
      --attempt;
      continue;
    } catch (const ConnectionError& e) {
      last_failure = e.what();
      connection_lost = true;
      // Never reuse a URL from before a connection failure without asking again: the server may
      // have restarted on another port. Also when giving up, for the next call.
      ++reconnects_;
      use(std::nullopt);
    }

    if (attempt >= attempts) {
      TLOG(error) << last_failure << tried << "; giving up";
      throw gave_up();
    }
    std::string next;
    if (connection_lost) {
      std::string why;
      auto found = try_resolve(resolver_, why);
      if (found) {
        next = "; resolved again: " + describe(*found);
        use(std::move(found));
      } else {
        last_resolve_ = why;
        next = "; cannot resolve TandemLlm now: " + why;
      }
    }
    const milliseconds delay = server_wait ? *server_wait : backoff_.delay(attempt - 1);
    TLOG(warning) << last_failure << tried << next << "; retrying in " << delay.count() << " ms"
                  << (server_wait ? " (the server's Retry-After)" : "");
    wait_unless_stopped(delay, stop);
    ++retries_;
  }
}

}  // namespace tandem::trainer
