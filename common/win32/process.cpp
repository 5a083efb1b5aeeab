#include "common/win32/process.h"

#include "common/win32/error.h"

namespace tandem::win32 {

Process::Process(Handle handle, DWORD access, std::string what)
    : handle_(std::move(handle)),
      // "A handle that has the PROCESS_QUERY_INFORMATION access right is automatically granted
      // PROCESS_QUERY_LIMITED_INFORMATION" (Process Security and Access Rights).
      rights_(kProcessRights, (access & PROCESS_QUERY_INFORMATION) != 0
                                  ? access | PROCESS_QUERY_LIMITED_INFORMATION
                                  : access),
      what_(std::move(what)) {}

Process Process::open(DWORD pid, DWORD access, std::string what, DWORD& error) {
  Handle handle(OpenProcess(access, FALSE, pid));
  error = handle ? ERROR_SUCCESS : GetLastError();
  if (!handle) return Process();
  return Process(std::move(handle), access, std::move(what));
}

Process Process::adopt(HANDLE created, std::string what, DWORD access) {
  return Process(Handle(created), access, std::move(what));
}

bool Process::wait(DWORD timeout_ms) const {
  const std::string call = "WaitForSingleObject(" + what_ + ")";
  rights_.require(SYNCHRONIZE, call);
  const DWORD r = WaitForSingleObject(handle_.get(), timeout_ms);
  if (r == WAIT_FAILED) throw_last_error(call);
  return r == WAIT_OBJECT_0;
}

DWORD Process::exit_code() const {
  const std::string call = "GetExitCodeProcess(" + what_ + ")";
  rights_.require(PROCESS_QUERY_LIMITED_INFORMATION, call);
  DWORD code = 0;
  if (!GetExitCodeProcess(handle_.get(), &code)) throw_last_error(call);
  return code;
}

void Process::terminate(UINT exit_code) const {
  const std::string call = "TerminateProcess(" + what_ + ")";
  rights_.require(PROCESS_TERMINATE, call);
  if (!TerminateProcess(handle_.get(), exit_code)) throw_last_error(call);
}

}  // namespace tandem::win32
