#include "common/win32/pipe_io.h"

#include <vector>

#include "common/win32/error.h"
#include "common/win32/wait_ms.h"

namespace tandem::win32 {

std::string pipe_path(std::string_view name) {
  constexpr std::string_view prefix = "\\\\.\\pipe\\";
  if (name.substr(0, prefix.size()) == prefix) return std::string(name);
  return std::string(prefix) + std::string(name);
}

DWORD remaining_ms(std::chrono::steady_clock::time_point deadline) {
  auto left =
      std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return wait_ms(left);  // a past deadline is 0, a far one never INFINITE
}

// The I/O system sets the OVERLAPPED's event (documented for ReadFile/WriteFile/ConnectNamedPipe)
// and GetOverlappedResult waits on it: SYNCHRONIZE and EVENT_MODIFY_STATE, both its creation gave.
Overlapped::Overlapped() : event_(Event::Reset::manual, "overlapped I/O") {
  event_.waitable("GetOverlappedResult");
  overlapped_.hEvent = event_.signalled_by("an OVERLAPPED's event");
}

IoResult Overlapped::finish(HANDLE file, DWORD start_error, HANDLE stop, DWORD timeout_ms) {
  if (start_error != ERROR_SUCCESS && start_error != ERROR_IO_PENDING &&
      start_error != ERROR_MORE_DATA) {
    return {IoEnd::failed, 0, start_error};
  }
  IoEnd cut = IoEnd::done;
  if (start_error == ERROR_IO_PENDING) {
    HANDLE handles[2] = {overlapped_.hEvent, stop};
    DWORD r = WaitForMultipleObjects(stop ? 2 : 1, handles, FALSE, timeout_ms);
    if (r == WAIT_FAILED) throw_last_error("WaitForMultipleObjects(overlapped I/O)");
    if (r != WAIT_OBJECT_0) {
      cut = r == WAIT_TIMEOUT ? IoEnd::timed_out : IoEnd::stopped;
      CancelIoEx(file, &overlapped_);  // fails harmlessly if it completed meanwhile
    }
  }
  DWORD bytes = 0;
  // Waits (bWait) only after a cancel: the operation is then finishing or finished.
  if (GetOverlappedResult(file, &overlapped_, &bytes, cut != IoEnd::done)) {
    return {IoEnd::done, bytes, ERROR_SUCCESS};  // completed, even if it raced a cancel
  }
  DWORD error = GetLastError();
  if (cut != IoEnd::done && error == ERROR_OPERATION_ABORTED) return {cut, bytes, error};
  return {IoEnd::failed, bytes, error};
}

void set_message_mode(const Pipe& pipe) {
  const std::string call = "SetNamedPipeHandleState(" + pipe.path() + ", message mode)";
  // Documented as GENERIC_WRITE on a read/write pipe, GENERIC_READ | FILE_WRITE_ATTRIBUTES on a
  // read-only one: FILE_WRITE_ATTRIBUTES is the right both give.
  pipe.rights().require(FILE_WRITE_ATTRIBUTES, call);
  DWORD mode = PIPE_READMODE_MESSAGE;
  if (!SetNamedPipeHandleState(pipe.get(), &mode, nullptr, nullptr)) throw_last_error(call);
}

MessageRead read_message(const Pipe& pipe_handle, Overlapped& overlapped, HANDLE stop,
                         DWORD timeout_ms, std::size_t limit) {
  pipe_handle.rights().require(FILE_READ_DATA, "ReadFile(" + pipe_handle.path() + ")");
  const HANDLE pipe = pipe_handle.get();
  MessageRead out;
  std::vector<char> chunk(16 * 1024);
  for (;;) {
    BOOL ok =
        ReadFile(pipe, chunk.data(), static_cast<DWORD>(chunk.size()), nullptr, overlapped.get());
    IoResult r = overlapped.finish(pipe, ok ? ERROR_SUCCESS : GetLastError(), stop, timeout_ms);
    bool more = r.end == IoEnd::failed && r.error == ERROR_MORE_DATA;
    if (r.end != IoEnd::done && !more) {
      out.end = r.end;
      out.error = r.error;
      return out;
    }
    out.size += r.bytes;
    if (out.size > limit) {
      out.too_big = true;
      out.message.clear();
      out.message.shrink_to_fit();
    } else {
      out.message.append(chunk.data(), r.bytes);
    }
    if (!more) return out;
  }
}

IoResult write_message(const Pipe& pipe_handle, Overlapped& overlapped, HANDLE stop,
                       DWORD timeout_ms, std::string_view message) {
  pipe_handle.rights().require(FILE_WRITE_DATA, "WriteFile(" + pipe_handle.path() + ")");
  const HANDLE pipe = pipe_handle.get();
  BOOL ok = WriteFile(pipe, message.data(), static_cast<DWORD>(message.size()), nullptr,
                      overlapped.get());
  IoResult r = overlapped.finish(pipe, ok ? ERROR_SUCCESS : GetLastError(), stop, timeout_ms);
  if (r.end == IoEnd::done && r.bytes != message.size()) {
    return {IoEnd::failed, r.bytes, ERROR_WRITE_FAULT};
  }
  return r;
}

}  // namespace tandem::win32
