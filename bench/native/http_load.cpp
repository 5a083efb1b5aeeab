// tandem-bench-load --port P [--host H] [--method GET|POST] [--path /health] [--body JSON]
//                   [--requests N] [--warmup N] [--connections C]
// Keep-alive requests over C connections (one thread each, TCP_NODELAY), after a warm-up on each.
// Prints one JSON object: latency percentiles in microseconds (every request timed) and the
// throughput over the whole timed run. Any non-200 reply or transport failure ends it with 1.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/native/keepalive_connection.h"

namespace {

struct Args {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string method = "GET";
  std::string path = "/health";
  std::string body;
  int requests = 2000;
  int warmup = 100;
  int connections = 1;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--host") {
      a.host = value;
    } else if (flag == "--port") {
      a.port = static_cast<std::uint16_t>(std::stoul(value));
    } else if (flag == "--method") {
      a.method = value;
    } else if (flag == "--path") {
      a.path = value;
    } else if (flag == "--body") {
      a.body = value;
    } else if (flag == "--requests") {
      a.requests = std::stoi(value);
    } else if (flag == "--warmup") {
      a.warmup = std::stoi(value);
    } else if (flag == "--connections") {
      a.connections = std::max(1, std::stoi(value));
    } else {
      throw std::runtime_error("unknown option " + flag);
    }
  }
  if (a.port == 0) throw std::runtime_error("--port is required");
  return a;
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto at = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(at, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args a = parse(argc, argv);
    using Clock = std::chrono::steady_clock;
    std::mutex mutex;
    std::vector<double> latencies_us;
    std::string failure;
    std::vector<std::unique_ptr<tandem::bench::KeepAliveConnection>> connections;
    for (int c = 0; c < a.connections; ++c) {
      connections.push_back(std::make_unique<tandem::bench::KeepAliveConnection>(a.host, a.port));
      for (int i = 0; i < a.warmup; ++i) {
        auto reply = connections.back()->request(a.method, a.path, a.body);
        if (reply.status != 200)
          throw std::runtime_error("warm-up reply " + std::to_string(reply.status) + ": " +
                                   reply.body);
      }
    }
    const int per_connection = std::max(1, a.requests / a.connections);
    const auto started = Clock::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < a.connections; ++c) {
      threads.emplace_back([&, c] {
        std::vector<double> mine;
        mine.reserve(static_cast<std::size_t>(per_connection));
        try {
          for (int i = 0; i < per_connection; ++i) {
            const auto t = Clock::now();
            auto reply =
                connections[static_cast<std::size_t>(c)]->request(a.method, a.path, a.body);
            mine.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
            if (reply.status != 200) {
              throw std::runtime_error("reply " + std::to_string(reply.status) + ": " + reply.body);
            }
          }
        } catch (const std::exception& e) {
          std::lock_guard lock(mutex);
          failure = e.what();
        }
        std::lock_guard lock(mutex);
        latencies_us.insert(latencies_us.end(), mine.begin(), mine.end());
      });
    }
    for (auto& t : threads) t.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    if (!failure.empty()) throw std::runtime_error(failure);
    std::sort(latencies_us.begin(), latencies_us.end());
    int reconnects = 0;
    for (const auto& c : connections) reconnects += c->reconnects();
    double sum = 0;
    for (double v : latencies_us) sum += v;
    std::printf(
        "{\"requests\": %zu, \"connections\": %d, \"p50_us\": %.1f, \"p99_us\": %.1f, "
        "\"mean_us\": %.1f, \"rps\": %.1f, \"reconnects\": %d}\n",
        latencies_us.size(), a.connections, percentile(latencies_us, 0.50),
        percentile(latencies_us, 0.99), sum / static_cast<double>(latencies_us.size()),
        static_cast<double>(latencies_us.size()) / seconds, reconnects);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tandem-bench-load: %s\n", e.what());
    return 1;
  }
}
