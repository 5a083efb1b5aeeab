// tandem-bench-win resolve N PORTFILE | start [--trainer-first] | kill-server [--restart]
#include "bench/win/bench_win.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>

#include "common/log.h"
#include "common/win32/strings.h"

namespace tandem::bench {

std::string summary_json(std::vector<double> samples_ms) {
  std::sort(samples_ms.begin(), samples_ms.end());
  auto at = [&](double p) {
    if (samples_ms.empty()) return 0.0;
    auto i = static_cast<std::size_t>(p * static_cast<double>(samples_ms.size() - 1) + 0.5);
    return samples_ms[std::min(i, samples_ms.size() - 1)];
  };
  double sum = 0;
  for (double v : samples_ms) sum += v;
  char text[200];
  std::snprintf(text, sizeof text,
                "{\"p50_ms\": %.3f, \"p99_ms\": %.3f, \"mean_ms\": %.3f, \"n\": %zu}", at(0.5),
                at(0.99), samples_ms.empty() ? 0.0 : sum / static_cast<double>(samples_ms.size()),
                samples_ms.size());
  return text;
}

}  // namespace tandem::bench

int wmain(int argc, wchar_t** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.push_back(tandem::win32::narrow(argv[i]));
  tandem::log::Options quiet;
  quiet.level = tandem::log::Level::error;
  tandem::log::init(quiet);
  try {
    if (args.size() == 3 && args[0] == "resolve") {
      return tandem::bench::resolve_bench(std::stoi(args[1]), args[2]);
    }
    if (!args.empty() && args[0] == "kill-server") {
      return tandem::bench::kill_server(args.size() > 1 && args[1] == "--restart");
    }
    if (!args.empty() && args[0] == "start") {
      return tandem::bench::start_services(args.size() > 1 && args[1] == "--trainer-first");
    }
    std::fprintf(stderr,
                 "usage: tandem-bench-win resolve N PORTFILE | start [--trainer-first] | "
                 "kill-server [--restart]\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tandem-bench-win: %s\n", e.what());
    return 1;
  }
}
