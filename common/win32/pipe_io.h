// Overlapped I/O on message-mode pipes, shared by the pipe server and client: every wait is
// bounded and can be cut short by a stop event; a cut-short operation is cancelled and drained
// before its buffer goes away.
#pragma once

#include <windows.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "common/win32/access.h"
#include "common/win32/event.h"
#include "common/win32/handle.h"

namespace tandem::win32 {

// "tandem-llm" -> "\\.\pipe\tandem-llm"; a name that already is a full path stays as it is.
std::string pipe_path(std::string_view name);

// Milliseconds left until `deadline`, 0 when it has passed; for Win32 waits.
DWORD remaining_ms(std::chrono::steady_clock::time_point deadline);

// A pipe handle, either end, with the rights it was opened with (access.h): a client's are what
// it asked CreateFileW for, a server instance's what its open mode gives (PIPE_ACCESS_DUPLEX:
// GENERIC_READ | GENERIC_WRITE). The calls below check the right each one's documentation names.
class Pipe {
 public:
  Pipe() = default;
  Pipe(FileHandle handle, DWORD access, std::string path)
      : handle_(std::move(handle)), rights_(kPipeRights, access), path_(std::move(path)) {}

  explicit operator bool() const { return static_cast<bool>(handle_); }
  HANDLE get() const { return handle_.get(); }
  const AccessRights& rights() const { return rights_; }
  const std::string& path() const { return path_; }
  void close() { handle_.reset(); }

 private:
  FileHandle handle_;
  AccessRights rights_{kPipeRights, 0};
  std::string path_;
};

// SetNamedPipeHandleState(PIPE_READMODE_MESSAGE); needs FILE_WRITE_ATTRIBUTES (in GENERIC_WRITE).
// Win32Error naming the call and the pipe.
void set_message_mode(const Pipe& pipe);

enum class IoEnd { done, failed, stopped, timed_out };

struct IoResult {
  IoEnd end = IoEnd::done;
  DWORD bytes = 0;
  DWORD error = ERROR_SUCCESS;  // for failed (ERROR_MORE_DATA is `failed` with bytes)
};

// One OVERLAPPED with its own manual-reset event, reused for one operation at a time.
class Overlapped {
 public:
  Overlapped();
  Overlapped(const Overlapped&) = delete;
  Overlapped& operator=(const Overlapped&) = delete;

  OVERLAPPED* get() { return &overlapped_; }

  // Completes an operation just started on `file`: `start_error` is ERROR_SUCCESS if the call
  // returned TRUE, else its GetLastError(). Waits for the completion, `stop` (may be null) or
  // `timeout_ms` (INFINITE allowed); on stop or timeout cancels the operation and waits for the
  // cancellation, so the buffer may be reused or freed right after.
  IoResult finish(HANDLE file, DWORD start_error, HANDLE stop, DWORD timeout_ms);

 private:
  Event event_;
  OVERLAPPED overlapped_{};
};

struct MessageRead {
  IoEnd end = IoEnd::done;
  DWORD error = ERROR_SUCCESS;
  std::string message;   // empty when too_big
  std::size_t size = 0;  // the whole message's size, even when too big to keep
  bool too_big = false;  // longer than `limit`: read to its end and dropped
};

// One whole message (ERROR_MORE_DATA pieces joined). A message over `limit` is still read to
// its end, so the next one starts clean, but not kept. ReadFile needs FILE_READ_DATA: without
// it AccessRightMissing, before any read.
MessageRead read_message(const Pipe& pipe, Overlapped& overlapped, HANDLE stop, DWORD timeout_ms,
                         std::size_t limit);

// WriteFile needs FILE_WRITE_DATA: without it AccessRightMissing, before any write.
IoResult write_message(const Pipe& pipe, Overlapped& overlapped, HANDLE stop, DWORD timeout_ms,
                       std::string_view message);

}  // namespace tandem::win32
