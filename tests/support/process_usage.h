// CPU time this process has used, and on Linux how often its threads went to sleep (each sleep
// ends in a wake-up): what an idle server must not accumulate.
#pragma once

#include <chrono>
#include <cstdint>

#ifdef _WIN32
#include <windows.h>
#else
#include <sys/resource.h>
#endif

namespace tandem::testing {

struct ProcessUsage {
  std::chrono::microseconds cpu{0};
  std::int64_t sleeps = -1;  // voluntary context switches, all threads; -1 where not known
};

inline ProcessUsage process_usage() {
  ProcessUsage u;
#ifdef _WIN32
  FILETIME created, exited, kernel, user;
  if (GetProcessTimes(GetCurrentProcess(), &created, &exited, &kernel, &user)) {
    const auto ticks = [](FILETIME f) {  // 100 ns units
      return (static_cast<std::uint64_t>(f.dwHighDateTime) << 32) | f.dwLowDateTime;
    };
    u.cpu = std::chrono::microseconds((ticks(kernel) + ticks(user)) / 10);
  }
#else
  rusage r{};
  if (getrusage(RUSAGE_SELF, &r) == 0) {
    u.cpu = std::chrono::seconds(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
            std::chrono::microseconds(r.ru_utime.tv_usec + r.ru_stime.tv_usec);
    u.sleeps = r.ru_nvcsw;
  }
#endif
  return u;
}

}  // namespace tandem::testing
