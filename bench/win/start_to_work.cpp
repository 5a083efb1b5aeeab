#include <windows.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "bench/win/bench_win.h"
#include "common/service_names.h"
#include "common/win32/error.h"
#include "common/win32/handle.h"
#include "common/win32/scm.h"

namespace tandem::bench {
namespace {

// Microseconds since 1970 on the wall clock the services' log lines are stamped with.
std::int64_t unix_micros_now() {
  FILETIME ft;
  GetSystemTimePreciseAsFileTime(&ft);
  const auto ticks = (static_cast<std::int64_t>(ft.dwHighDateTime) << 32) | ft.dwLowDateTime;
  return ticks / 10 - 11644473600LL * 1000000;
}

}  // namespace

int start_services(bool trainer_first) {
  using namespace std::chrono_literals;
  auto scm = win32::ScManager::open();
  auto llm = win32::Service::open(scm, kLlmServiceName, SERVICE_START | SERVICE_QUERY_STATUS);
  // start_with_dependencies reads the trainer's configuration too: all access.
  auto trainer = win32::Service::open(scm, kTrainerServiceName);
  const std::int64_t t0 = unix_micros_now();
  if (trainer_first) {
    // Wine's SCM does not start dependencies: the trainer runs and waits for the server.
    trainer.start();
    llm.start();
  } else {
    trainer.start_with_dependencies(scm, 120s);
  }
  std::printf("{\"t0_us\": %lld}\n", static_cast<long long>(t0));
  return 0;
}

int kill_server() {
  auto scm = win32::ScManager::open();
  auto llm = win32::Service::open(scm, kLlmServiceName, SERVICE_QUERY_STATUS);
  const DWORD pid = llm.query().pid;
  win32::Handle process(OpenProcess(PROCESS_TERMINATE, FALSE, pid));
  if (!process) win32::throw_last_error("OpenProcess(TandemLlm pid " + std::to_string(pid) + ")");
  const std::int64_t t0 = unix_micros_now();
  // A crash as SCM sees it: the process ends without reporting STOPPED.
  if (!TerminateProcess(process.get(), 1)) win32::throw_last_error("TerminateProcess(TandemLlm)");
  std::printf("{\"t_kill_us\": %lld, \"pid\": %lu}\n", static_cast<long long>(t0),
              static_cast<unsigned long>(pid));
  return 0;
}

}  // namespace tandem::bench
