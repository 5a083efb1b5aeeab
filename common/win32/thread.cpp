#include "common/win32/thread.h"

#include "common/win32/error.h"

namespace tandem::win32 {

Thread::Thread(Handle handle, DWORD access, std::string what)
    : handle_(std::move(handle)), rights_(kThreadRights, access), what_(std::move(what)) {}

Thread Thread::start(LPTHREAD_START_ROUTINE routine, void* parameter, std::string what) {
  Handle handle(CreateThread(nullptr, 0, routine, parameter, 0, nullptr));
  if (!handle) throw_last_error("CreateThread(" + what + ")");
  return Thread(std::move(handle), THREAD_ALL_ACCESS, std::move(what));
}

Thread Thread::adopt(HANDLE created, std::string what, DWORD access) {
  return Thread(Handle(created), access, std::move(what));
}

void Thread::resume() const {
  const std::string call = "ResumeThread(" + what_ + ")";
  rights_.require(THREAD_SUSPEND_RESUME, call);
  if (ResumeThread(handle_.get()) == static_cast<DWORD>(-1)) throw_last_error(call);
}

bool Thread::cancel_synchronous_io() const {
  const std::string call = "CancelSynchronousIo(" + what_ + ")";
  rights_.require(THREAD_TERMINATE, call);
  if (CancelSynchronousIo(handle_.get())) return true;
  if (GetLastError() == ERROR_NOT_FOUND) return false;
  throw_last_error(call);
}

bool Thread::wait(DWORD timeout_ms) const {
  const std::string call = "WaitForSingleObject(" + what_ + ")";
  const DWORD r = WaitForSingleObject(waitable(call), timeout_ms);
  if (r == WAIT_FAILED) throw_last_error(call);
  return r == WAIT_OBJECT_0;
}

HANDLE Thread::waitable(const std::string& call) const {
  rights_.require(SYNCHRONIZE, call);
  return handle_.get();
}

}  // namespace tandem::win32
