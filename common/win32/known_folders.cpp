#include "common/win32/known_folders.h"

#include <shlobj.h>
#include <windows.h>

#include <cstdio>

#include "common/error.h"

namespace tandem::paths::detail {

std::filesystem::path program_data_dir() {
  PWSTR path = nullptr;
  HRESULT hr = SHGetKnownFolderPath(FOLDERID_ProgramData, KF_FLAG_DEFAULT, nullptr, &path);
  std::filesystem::path result =
      SUCCEEDED(hr) ? std::filesystem::path(path) : std::filesystem::path();
  CoTaskMemFree(path);  // required even on failure
  if (FAILED(hr)) {
    // tandem_common cannot use win32/error (it sits below it); the HRESULT says enough.
    char code[16];
    std::snprintf(code, sizeof(code), "0x%08lx", static_cast<unsigned long>(hr));
    throw Error(std::string("SHGetKnownFolderPath(FOLDERID_ProgramData) failed: HRESULT ") + code);
  }
  return result;
}

std::filesystem::path executable_dir() {
  std::wstring buffer(MAX_PATH, L'\0');
  for (;;) {
    DWORD n = GetModuleFileNameW(nullptr, buffer.data(), static_cast<DWORD>(buffer.size()));
    if (n < buffer.size()) return std::filesystem::path(buffer.substr(0, n)).parent_path();
    buffer.resize(buffer.size() * 2);
  }
}

}  // namespace tandem::paths::detail
