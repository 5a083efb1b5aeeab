#include <windows.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "bench/win/bench_win.h"
#include "common/error.h"
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

int kill_server(bool restart) {
  auto scm = win32::ScManager::open();
  auto llm = win32::Service::open(scm, kLlmServiceName, SERVICE_QUERY_STATUS | SERVICE_START);
  const DWORD pid = llm.query().pid;
  win32::Handle process(OpenProcess(PROCESS_TERMINATE | SYNCHRONIZE, FALSE, pid));
  if (!process) win32::throw_last_error("OpenProcess(TandemLlm pid " + std::to_string(pid) + ")");
  const std::int64_t t0 = unix_micros_now();
  // A crash as SCM sees it: the process ends without reporting STOPPED.
  if (!TerminateProcess(process.get(), 1)) win32::throw_last_error("TerminateProcess(TandemLlm)");
  std::int64_t t_restart = 0;
  if (restart) {
    // What the installed recovery action does on Windows, without its configured delay (Wine's
    // SCM applies no recovery): start the service again once the process has ended.
    if (WaitForSingleObject(process.get(), 30000) != WAIT_OBJECT_0) {
      throw Error("TandemLlm pid " + std::to_string(pid) + " did not end within 30 s of the kill");
    }
    t_restart = unix_micros_now();
    llm.start();
  }
  std::printf("{\"t_kill_us\": %lld, \"t_restart_us\": %lld, \"pid\": %lu}\n",
              static_cast<long long>(t0), static_cast<long long>(t_restart),
              static_cast<unsigned long>(pid));
  return 0;
}

}  // namespace tandem::bench
