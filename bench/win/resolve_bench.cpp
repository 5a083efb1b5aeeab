#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/win/bench_win.h"
#include "common/error.h"
#include "common/files.h"
#include "common/http_client.h"
#include "common/service_names.h"
#include "common/win32/llm_resolver.h"
#include "common/win32/pipe_client.h"
#include "common/win32/registry_publication.h"
#include "common/win32/scm.h"

namespace tandem::bench {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// The report's start_training.py: the port from config.json, then requests.get(/health) on a new
// connection (requests opens one per call), retried on connection errors.
void peer_resolve(const std::string& port_file) {
  const auto port = nlohmann::json::parse(read_file(port_file)).at("llm_server_port").get<int>();
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  for (int attempt = 0;; ++attempt) {
    try {
      HttpClient client(url);
      if (client.get("/health").status == 200) return;
    } catch (const ConnectionError&) {
      if (attempt == 5) throw;
    }
  }
}

}  // namespace

int resolve_bench(int iterations, const std::string& port_file) {
  std::string why;
  auto first = win32::LlmResolver().resolve(why);
  if (!first) throw Error("TandemLlm does not resolve: " + why);
  write_file_atomically(port_file, nlohmann::json{{"llm_server_port", first->port}}.dump());

  std::vector<double> tandem, peer;
  for (int i = 0; i < iterations; ++i) {
    auto t = Clock::now();
    win32::LlmResolver resolver;  // a fresh resolver each time: what `tandemctl url` does
    if (!resolver.resolve(why)) throw Error("resolution " + std::to_string(i) + " failed: " + why);
    tandem.push_back(ms_since(t));
    t = Clock::now();
    peer_resolve(port_file);
    peer.push_back(ms_since(t));
  }
  // Where Tandem's time goes: each check of the resolver on its own (resolver.cpp's order).
  using namespace std::chrono_literals;
  auto scm_handle = win32::ScManager::open();
  auto llm_service = win32::Service::open(scm_handle, kLlmServiceName, SERVICE_QUERY_STATUS);
  const std::map<std::string, std::function<void()>> parts = {
      {"registry", [] { (void)win32::read_publication(win32::kLlmServerKey); }},
      {"scm",
       [] {
         auto scm = win32::ScManager::open();
         (void)win32::Service::open(scm, kLlmServiceName, SERVICE_QUERY_STATUS).query();
       }},
      {"scm_open_only", [] { (void)win32::ScManager::open(); }},
      {"scm_query_open_handle", [&] { (void)llm_service.query(); }},
      {"pipe", [&] { (void)win32::call_pipe(first->pipe_name, R"({"v":1,"op":"resolve"})", 2s); }},
      {"health", [&] { (void)HttpClient(first->url).get("/health"); }},
  };
  std::string breakdown;
  for (const auto& [name, run] : parts) {
    std::vector<double> samples;
    for (int i = 0; i < iterations; ++i) {
      const auto t = Clock::now();
      run();
      samples.push_back(ms_since(t));
    }
    breakdown += (breakdown.empty() ? "" : ", ") + ("\"" + name + "\": ") + summary_json(samples);
  }
  std::printf("{\"tandem\": %s, \"peer\": %s, \"parts\": {%s}}\n", summary_json(tandem).c_str(),
              summary_json(peer).c_str(), breakdown.c_str());
  return 0;
}

}  // namespace tandem::bench
