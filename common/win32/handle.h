// RAII ownership of Win32 handles: one template, one closer per kind of handle.
#pragma once

#include <windows.h>

#include <utility>

namespace tandem::win32 {

template <typename T, auto Invalid, auto Close>
class Owned {
 public:
  Owned() = default;
  explicit Owned(T value) : value_(value) {}
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  Owned(Owned&& other) noexcept : value_(std::exchange(other.value_, Invalid())) {}
  Owned& operator=(Owned&& other) noexcept {
    if (this != &other) reset(std::exchange(other.value_, Invalid()));
    return *this;
  }
  ~Owned() { reset(); }

  T get() const { return value_; }
  explicit operator bool() const { return value_ != Invalid(); }
  T release() { return std::exchange(value_, Invalid()); }
  void reset(T value = Invalid()) {
    if (value_ != Invalid()) Close(value_);
    value_ = value;
  }

 private:
  T value_ = Invalid();
};

namespace detail {
inline HANDLE null_handle() {
  return nullptr;
}
inline HANDLE invalid_handle() {
  return INVALID_HANDLE_VALUE;
}
inline SC_HANDLE null_sc() {
  return nullptr;
}
inline HKEY null_key() {
  return nullptr;
}
inline void close_handle(HANDLE h) {
  CloseHandle(h);
}
inline void close_sc(SC_HANDLE h) {
  CloseServiceHandle(h);
}
inline void close_key(HKEY k) {
  RegCloseKey(k);
}
}  // namespace detail

// Events, processes, threads, mutexes: invalid is NULL.
using Handle = Owned<HANDLE, detail::null_handle, detail::close_handle>;
// Files and pipes from CreateFileW / CreateNamedPipeW: invalid is INVALID_HANDLE_VALUE.
using FileHandle = Owned<HANDLE, detail::invalid_handle, detail::close_handle>;
using ScHandle = Owned<SC_HANDLE, detail::null_sc, detail::close_sc>;
using KeyHandle = Owned<HKEY, detail::null_key, detail::close_key>;

}  // namespace tandem::win32
