// Linked into every Windows test executable. Under Wine a process that crashes ends with exit
// code 0 once winedbg has printed its report, so CTest would count a crash (heap corruption at a
// thread's exit, say) as a pass. An unhandled exception ends the process with the exception's code
// instead, after one line on stderr saying what and where.
#include <windows.h>

#include <cstdio>

namespace {

LONG WINAPI end_with_exception_code(EXCEPTION_POINTERS* e) {
  std::fprintf(stderr, "unhandled exception 0x%08lx at %p: the test process ends with that code\n",
               static_cast<unsigned long>(e->ExceptionRecord->ExceptionCode),
               e->ExceptionRecord->ExceptionAddress);
  std::fflush(stderr);
  TerminateProcess(GetCurrentProcess(), e->ExceptionRecord->ExceptionCode);
  return EXCEPTION_EXECUTE_HANDLER;
}

const auto previous_filter = SetUnhandledExceptionFilter(end_with_exception_code);

}  // namespace
