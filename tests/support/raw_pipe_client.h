// A pipe client for hostile tests: it sends whatever bytes it is given as one message, may keep
// the connection for many messages, and may stop reading or writing at any point, which the
// product's call_pipe() never does. Every wait is bounded.
#pragma once

#include <windows.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/win32/error.h"
#include "common/win32/handle.h"
#include "common/win32/pipe_io.h"
#include "common/win32/strings.h"

namespace tandem::testing {

class RawPipeClient {
 public:
  // Connects to `name`, waiting for a free instance (all may be busy) within `timeout`.
  RawPipeClient(const std::string& name, std::chrono::milliseconds timeout)
      : path_(win32::pipe_path(name)) {
    const std::wstring wide = win32::widen(path_);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      win32::FileHandle pipe(CreateFileW(wide.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr,
                                         OPEN_EXISTING, FILE_FLAG_OVERLAPPED, nullptr));
      pipe_ = win32::Pipe(std::move(pipe), GENERIC_READ | GENERIC_WRITE, path_);
      if (pipe_) break;
      const DWORD error = GetLastError();
      if (error != ERROR_PIPE_BUSY) win32::throw_error("CreateFileW(" + path_ + ")", error);
      const DWORD left = win32::remaining_ms(deadline);
      if (left == 0 || !WaitNamedPipeW(wide.c_str(), left)) {
        win32::throw_error(
            "WaitNamedPipeW(" + path_ + ") within " + std::to_string(timeout.count()) + " ms",
            GetLastError());
      }
    }
    win32::set_message_mode(pipe_);
  }

  HANDLE get() const { return pipe_.get(); }
  void close() { pipe_.close(); }

  // Sends `message` as one message; the result says how the write ended.
  win32::IoResult send(std::string_view message, std::chrono::milliseconds timeout) {
    return win32::write_message(pipe_, overlapped_, nullptr, static_cast<DWORD>(timeout.count()),
                                message);
  }

  // One whole message back, or nothing when the read failed or ran out of time (see `last`).
  std::optional<std::string> receive(std::chrono::milliseconds timeout) {
    last_ = win32::read_message(pipe_, overlapped_, nullptr, static_cast<DWORD>(timeout.count()),
                                4 * 1024 * 1024);
    if (last_.end != win32::IoEnd::done) return std::nullopt;
    return last_.message;
  }

  // Sends one message and reads one back; nothing when either step failed.
  std::optional<std::string> exchange(std::string_view message, std::chrono::milliseconds timeout) {
    if (send(message, timeout).end != win32::IoEnd::done) return std::nullopt;
    return receive(timeout);
  }

  const win32::MessageRead& last() const { return last_; }

 private:
  std::string path_;
  win32::Pipe pipe_;
  win32::Overlapped overlapped_;
  win32::MessageRead last_;
};

}  // namespace tandem::testing
