// The portable runner: exceptions become an exit code, status calls log, and on POSIX SIGINT and
// SIGTERM stop the body through the self-pipe.
#include "common/console_runner.h"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>

#include "common/error.h"
#include "common/files.h"
#include "common/log.h"
#include "tests/support/temp_dir.h"

#ifndef _WIN32
#include <unistd.h>
#include <csignal>
#endif

namespace tandem {
namespace {

using namespace std::chrono_literals;

class NullStatus final : public ServiceStatus {
 public:
  void starting(std::chrono::milliseconds) override {}
  void running() override {}
  void stopping(std::chrono::milliseconds) override {}
};

TEST(RunBody, ReturnsTheBodysCode) {
  NullStatus status;
  StopSignal stop;
  EXPECT_EQ(run_body([](ServiceStatus&, StopSignal&) { return 17; }, status, stop, "t"), 17);
}

TEST(RunBody, TurnsAnExceptionIntoBodyThrew) {
  NullStatus status;
  StopSignal stop;
  auto throws_error = [](ServiceStatus&, StopSignal&) -> int {
    throw Error("config.json:3: bad port");
  };
  auto throws_other = [](ServiceStatus&, StopSignal&) -> int { throw 5; };
  EXPECT_EQ(run_body(throws_error, status, stop, "t"), kExitBodyThrew);
  EXPECT_EQ(run_body(throws_other, status, stop, "t"), kExitBodyThrew);
}

TEST(LoggingStatus, LogsEachReportAndTheExceptionText) {
  testing::TempDir dir;
  log::Options options;
  options.directory = dir.path();
  options.file_stem = "runner";
  log::init(options);
  LoggingStatus status("svc");
  StopSignal stop;
  run_body(
      [](ServiceStatus& s, StopSignal&) -> int {
        s.starting(1500ms);
        s.running();
        s.stopping(250ms);
        throw Error("model.gguf: not a GGUF file");
      },
      status, stop, "svc");
  // Read before shutdown, which rotates the file away under its final name.
  const std::string log = read_file(dir / "runner.log");
  log::shutdown();
  EXPECT_NE(log.find("svc: starting (next step within 1500 ms)"), std::string::npos) << log;
  EXPECT_NE(log.find("svc: running"), std::string::npos) << log;
  EXPECT_NE(log.find("svc: stopping (next step within 250 ms)"), std::string::npos) << log;
  EXPECT_NE(log.find("svc failed: model.gguf: not a GGUF file"), std::string::npos) << log;
}

#ifndef _WIN32
// The body raises the signal itself, then waits (bounded) for the stop it should cause.
int stop_on(int signo) {
  return run_in_console([signo](ServiceStatus& status, StopSignal& stop) {
    status.running();
    if (::kill(::getpid(), signo) != 0) return 2;
    return stop.wait_for(10s) ? 42 : 1;
  });
}

TEST(RunInConsole, SigtermRequestsTheStop) {
  EXPECT_EQ(stop_on(SIGTERM), 42);
}

TEST(RunInConsole, SigintRequestsTheStop) {
  EXPECT_EQ(stop_on(SIGINT), 42);
}

TEST(RunInConsole, ReturnsAtOnceWhenTheBodyEndsWithoutASignal) {
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(
      run_in_console([](ServiceStatus&, StopSignal& stop) { return stop.requested() ? 1 : 3; }), 3);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST(RunInConsole, AnExceptionBecomesBodyThrew) {
  EXPECT_EQ(
      run_in_console([](ServiceStatus&, StopSignal&) -> int { throw std::runtime_error("boom"); }),
      kExitBodyThrew);
}

extern "C" void count_signal(int) {}

TEST(RunInConsole, RestoresThePreviousHandlers) {
  struct sigaction mine {};
  mine.sa_handler = count_signal;
  sigemptyset(&mine.sa_mask);
  struct sigaction before_int {
  }, before_term{};
  ASSERT_EQ(::sigaction(SIGINT, &mine, &before_int), 0);
  ASSERT_EQ(::sigaction(SIGTERM, &mine, &before_term), 0);
  EXPECT_EQ(run_in_console([](ServiceStatus&, StopSignal&) { return 0; }), 0);
  struct sigaction after {};
  ASSERT_EQ(::sigaction(SIGINT, &before_int, &after), 0);
  EXPECT_EQ(after.sa_handler, count_signal);
  ASSERT_EQ(::sigaction(SIGTERM, &before_term, &after), 0);
  EXPECT_EQ(after.sa_handler, count_signal);
}

TEST(RunInConsole, RefusesASecondConcurrentRun) {
  std::string error;
  const int code = run_in_console([&](ServiceStatus&, StopSignal&) {
    try {
      run_in_console([](ServiceStatus&, StopSignal&) { return 0; }, "inner");
    } catch (const Error& e) {
      error = e.what();
    }
    return 0;
  });
  EXPECT_EQ(code, 0);
  EXPECT_NE(error.find("run_in_console(inner): another console run is active"), std::string::npos)
      << error;
}
#endif

}  // namespace
}  // namespace tandem
