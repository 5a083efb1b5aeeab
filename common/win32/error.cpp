#include "common/win32/error.h"

#include <windows.h>

#include "common/win32/strings.h"

namespace tandem::win32 {

std::string error_text(std::uint32_t code) {
  wchar_t* buffer = nullptr;
  DWORD n = FormatMessageW(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
      nullptr, code, 0, reinterpret_cast<wchar_t*>(&buffer), 0, nullptr);
  std::wstring text = n ? std::wstring(buffer, n) : L"unknown error";
  if (buffer) LocalFree(buffer);
  while (!text.empty() && (text.back() == L'\n' || text.back() == L'\r' || text.back() == L' ')) {
    text.pop_back();
  }
  return narrow(text);
}

Win32Error::Win32Error(const std::string& call, std::uint32_t code)
    : SystemError(call + " failed: " + error_text(code) + " (error " + std::to_string(code) + ")",
                  code == ERROR_ACCESS_DENIED),
      code_(code) {}

Win32Error::Win32Error(std::uint32_t code, const std::string& message)
    : SystemError(message, code == ERROR_ACCESS_DENIED), code_(code) {}

void throw_last_error(const std::string& call) {
  throw Win32Error(call, GetLastError());
}
void throw_error(const std::string& call, std::uint32_t code) {
  throw Win32Error(call, code);
}

}  // namespace tandem::win32
