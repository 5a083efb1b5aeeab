// UTF-8 <-> UTF-16 at the Win32 boundary; everything inside Tandem is UTF-8.
#pragma once

#include <string>
#include <string_view>

namespace tandem::win32 {

std::wstring widen(std::string_view utf8);
std::string narrow(std::wstring_view utf16);

}  // namespace tandem::win32
