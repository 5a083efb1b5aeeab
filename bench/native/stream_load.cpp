// tandem-bench-stream --port P [--clients C] [--requests N] [--max-tokens T] [--prompt TEXT]
//                     [--shared-start]
// P3 inference: C clients at once, each on its own keep-alive connection, each sending N streamed
// greedy completions of T tokens one after another. Every request's prompt starts with its own
// number, unique across runs, so no server can answer from a cached prompt; with --shared-start
// the number ends the prompt instead, as requests that share a long instruction (servers that
// keep a slot's cache decode only the end). Prints one JSON object:
// time to first token (p50/p99, ms), the decode rate of one stream (median tokens/s after its first
// token) and the aggregate rate (all streamed tokens / wall time). Any non-200 reply ends it
// with 1.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <mutex>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/native/keepalive_connection.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::uint16_t port = 0;
  int clients = 1;
  int requests = 3;
  int max_tokens = 64;
  bool shared_start = false;
  std::string prompt =
      "wrote a short story about a lighthouse keeper who finds a message in a bottle, and the "
      "story begins on a cold morning when the fog is thick and the sea is calm";
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--shared-start") {
      a.shared_start = true;
      continue;
    }
    if (i + 1 >= argc) throw std::runtime_error(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--port") {
      a.port = static_cast<std::uint16_t>(std::stoul(value));
    } else if (flag == "--clients") {
      a.clients = std::max(1, std::stoi(value));
    } else if (flag == "--requests") {
      a.requests = std::max(1, std::stoi(value));
    } else if (flag == "--max-tokens") {
      a.max_tokens = std::max(2, std::stoi(value));
    } else if (flag == "--prompt") {
      a.prompt = value;
    } else {
      throw std::runtime_error("unknown option " + flag);
    }
  }
  if (a.port == 0) throw std::runtime_error("--port is required");
  return a;
}

struct Stream {
  double ttft_ms = 0;
  double decode_tps = 0;  // tokens after the first / time after the first
  int tokens = 0;
};

// Reads SSE events as they arrive; a token is an event whose choice carries non-empty text.
class EventCounter {
 public:
  explicit EventCounter(Clock::time_point sent) : sent_(sent) {}

  void feed(std::string_view data) {
    const auto now = Clock::now();
    pending_.append(data);
    for (std::size_t end; (end = pending_.find("\n\n")) != std::string::npos;) {
      const std::string event = pending_.substr(0, end);
      pending_.erase(0, end + 2);
      if (event.rfind("data: ", 0) != 0 || event == "data: [DONE]") continue;
      const auto json = nlohmann::json::parse(event.substr(6));
      const auto& choices = json.value("choices", nlohmann::json::array());
      if (choices.empty() || choices[0].value("text", "").empty()) continue;
      if (tokens_++ == 0) first_ = now;
      last_ = now;
    }
  }

  Stream result() const {
    if (tokens_ == 0) throw std::runtime_error("a streamed reply carried no token");
    Stream s;
    s.tokens = tokens_;
    s.ttft_ms = std::chrono::duration<double, std::milli>(first_ - sent_).count();
    const double after = std::chrono::duration<double>(last_ - first_).count();
    s.decode_tps = after > 0 ? (tokens_ - 1) / after : 0;
    return s;
  }

 private:
  Clock::time_point sent_, first_, last_;
  std::string pending_;
  int tokens_ = 0;
};

double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const auto at = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(at, values.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args a = parse(argc, argv);
    std::mutex mutex;
    std::vector<Stream> streams;
    std::string failure;
    std::vector<std::unique_ptr<tandem::bench::KeepAliveConnection>> connections;
    for (int c = 0; c < a.clients; ++c) {
      connections.push_back(
          std::make_unique<tandem::bench::KeepAliveConnection>("127.0.0.1", a.port));
    }
    // Unique across runs too: the servers keep a slot's last prompt and reuse its prefix.
    const std::string nonce =
        std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 1'000'000'007);
    const auto started = Clock::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < a.clients; ++c) {
      threads.emplace_back([&, c] {
        try {
          for (int r = 0; r < a.requests; ++r) {
            const std::string id = std::to_string(r) + "-" + std::to_string(c) + "-" + nonce;
            const std::string body = nlohmann::json{
                {"prompt", a.shared_start ? "I " + a.prompt + ". Request " + id
                                          : "Request " + id + ": I " + a.prompt},
                {"max_tokens", a.max_tokens},
                {"temperature", 0},
                {"stream", true}}.dump();
            EventCounter counter(Clock::now());
            auto reply = connections[static_cast<std::size_t>(c)]->request(
                "POST", "/v1/completions", body, [&](std::string_view d) { counter.feed(d); });
            if (reply.status != 200) {
              throw std::runtime_error("reply " + std::to_string(reply.status) + ": " + reply.body);
            }
            const Stream s = counter.result();
            std::lock_guard lock(mutex);
            streams.push_back(s);
          }
        } catch (const std::exception& e) {
          std::lock_guard lock(mutex);
          failure = e.what();
        }
      });
    }
    for (auto& t : threads) t.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    if (!failure.empty()) throw std::runtime_error(failure);
    std::vector<double> ttft, decode;
    long tokens = 0;
    for (const auto& s : streams) {
      ttft.push_back(s.ttft_ms);
      decode.push_back(s.decode_tps);
      tokens += s.tokens;
    }
    std::printf(
        "{\"clients\": %d, \"streams\": %zu, \"tokens\": %ld, \"ttft_p50_ms\": %.1f, "
        "\"ttft_p99_ms\": %.1f, \"ttft_mean_ms\": %.1f, \"stream_tps\": %.2f, "
        "\"aggregate_tps\": %.2f}\n",
        a.clients, streams.size(), tokens, percentile(ttft, 0.5), percentile(ttft, 0.99),
        std::accumulate(ttft.begin(), ttft.end(), 0.0) / static_cast<double>(ttft.size()),
        percentile(decode, 0.5), static_cast<double>(tokens) / seconds);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tandem-bench-stream: %s\n", e.what());
    return 1;
  }
}
