// Invariants the fuzz targets assert beyond "no crash": a broken one aborts, which libFuzzer
// records as a crash together with the input that caused it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace tandem::fuzz {

[[noreturn]] inline void broken(const char* condition, const std::string& detail, const char* file,
                                int line) {
  std::fprintf(stderr, "%s:%d: invariant broken: %s\n  %s\n", file, line, condition,
               detail.c_str());
  std::abort();
}

// "origin:<digit>..." — where an InputError says the fault is (file:line or file:line:column).
inline bool names_place(std::string_view where, std::string_view origin) {
  return where.size() > origin.size() + 1 && where.substr(0, origin.size()) == origin &&
         where[origin.size()] == ':' && where[origin.size() + 1] >= '0' &&
         where[origin.size() + 1] <= '9';
}

}  // namespace tandem::fuzz

#define TANDEM_FUZZ_CHECK(condition, detail)                                            \
  do {                                                                                  \
    if (!(condition)) ::tandem::fuzz::broken(#condition, (detail), __FILE__, __LINE__); \
  } while (0)
