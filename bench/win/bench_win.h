// tandem-bench-win: the benchmarks that need Windows' registry, pipes and SCM, run under Wine
// against the services installed from Tandem.msi. Each prints one JSON object on stdout.
#pragma once

#include <string>
#include <vector>

namespace tandem::bench {

// P6: LlmResolver::resolve (registry + SCM + pipe + GET /health) vs the problem report's
// pattern (read a port from a JSON file, GET /health on a new connection, retried).
int resolve_bench(int iterations, const std::string& port_file);

// P1: takes the start time, then starts the services: TandemLlm and, once it runs, TandemTrainer
// (the Windows SCM's dependency order), or the trainer first so it is already waiting.
int start_services(bool trainer_first);

// P5: ends TandemLlm's process as a crash would (SCM recovery then applies); prints the time.
// Kills TandemLlm as a crash would; with `restart`, starts it again as SCM recovery would.
int kill_server(bool restart);

// {"p50_ms": .., "p99_ms": .., "mean_ms": .., "n": ..} of the samples (milliseconds).
std::string summary_json(std::vector<double> samples_ms);

}  // namespace tandem::bench
