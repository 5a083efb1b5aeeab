// tandem-bench-server CONFIG.json MODEL.gguf [LOG_DIR]: TandemLlm's service body (the same library
// the service links: HTTP server, API, llama.cpp engine) in the foreground, for the native
// benchmarks. Prints "READY <port>" on stdout at the moment the service would publish its endpoint,
// so the bench waits on that line instead of polling; a stop comes with SIGTERM or SIGINT. With
// LOG_DIR it logs as the service does (a file, flushed per line, at the config's log_level).
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <exception>
#include <memory>
#include <thread>

#include "common/discovery/publisher.h"
#include "common/log.h"
#include "common/service_body.h"
#include "service/llm_service.h"

namespace {

class StdoutPublisher final : public tandem::discovery::Publisher {
 public:
  void starting(const tandem::discovery::Endpoint&) override {}
  void ready(const tandem::discovery::Endpoint& e) override {
    std::printf("READY %u\n", static_cast<unsigned>(e.port));
    std::fflush(stdout);
  }
  void withdraw() override {}
};

class QuietStatus final : public tandem::ServiceStatus {
 public:
  void starting(std::chrono::milliseconds) override {}
  void running() override {}
  void stopping(std::chrono::milliseconds) override {}
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: tandem-bench-server CONFIG.json MODEL.gguf [LOG_DIR]\n");
    return 2;
  }
  // Blocked before any thread starts, so only the waiter below ever takes these signals.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  tandem::log::Options log_options;
  if (argc == 4) {
    log_options.directory = argv[3];
    log_options.file_stem = "tandem-llm";
  } else {
    log_options.console = true;
  }
  tandem::log::init(log_options);

  tandem::StopSignal stop;
  std::thread waiter([&] {
    int received = 0;
    sigwait(&signals, &received);
    stop.request();
  });
  waiter.detach();

  tandem::llm::ServiceOptions options;
  options.config_file = argv[1];
  options.default_model = argv[2];
  options.pipe_name = "bench";
  options.make_publisher = [](const tandem::discovery::Endpoint&) {
    return std::make_unique<StdoutPublisher>();
  };
  try {
    QuietStatus status;
    return tandem::llm::run_llm_service(status, stop, options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tandem-bench-server: %s\n", e.what());
    return 1;
  }
}
