// paths.h's Windows part: the known folder ProgramData and the module's own folder.
#include <shlobj.h>
#include <windows.h>

#include <cstdio>

#include "common/error.h"
#include "common/paths.h"

namespace tandem::paths::platform {
namespace {

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

}  // namespace

std::filesystem::path environment(const char* name) {
  std::wstring wide(name, name + std::char_traits<char>::length(name));
  const wchar_t* value = _wgetenv(wide.c_str());
  return value && *value ? std::filesystem::path(value) : std::filesystem::path();
}

std::filesystem::path data_dir() {
  // Not %ProgramData%: a service's environment may lack it or differ (Wine gives services
  // C:\users\Public); the known folder is what every process agrees on.
  return program_data_dir() / "Tandem";
}

std::filesystem::path config_dir() {
  return paths::data_dir() / "config";
}

std::filesystem::path logs_dir() {
  return paths::data_dir() / "logs";
}

std::filesystem::path executable_dir() {
  std::wstring buffer(MAX_PATH, L'\0');
  for (;;) {
    DWORD n = GetModuleFileNameW(nullptr, buffer.data(), static_cast<DWORD>(buffer.size()));
    if (n < buffer.size()) return std::filesystem::path(buffer.substr(0, n)).parent_path();
    buffer.resize(buffer.size() * 2);
  }
}

std::filesystem::path installed_model() {
  return executable_dir() / "tandem-tiny.gguf";  // the MSI puts it beside the binaries
}

}  // namespace tandem::paths::platform
