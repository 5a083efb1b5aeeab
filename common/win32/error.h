// Win32 failures as exceptions whose message names the call and the system's own text:
// "RegCreateKeyExW(HKLM\SOFTWARE\Tandem) failed: Access is denied. (error 5)".
#pragma once

#include <cstdint>
#include <string>

#include "common/error.h"

namespace tandem::win32 {

class Win32Error : public SystemError {
 public:
  Win32Error(const std::string& call, std::uint32_t code);
  // A refusal made on our side before the call, worded by the caller (access.h).
  Win32Error(std::uint32_t code, const std::string& message);
  std::uint32_t code() const { return code_; }

 private:
  std::uint32_t code_;
};

// The system's message for an error code, without the trailing line break.
std::string error_text(std::uint32_t code);

// Throws Win32Error for GetLastError(); call right after the failing API.
[[noreturn]] void throw_last_error(const std::string& call);
[[noreturn]] void throw_error(const std::string& call, std::uint32_t code);

}  // namespace tandem::win32
