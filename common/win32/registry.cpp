#include "common/win32/registry.h"

#include "common/win32/error.h"
#include "common/win32/strings.h"

namespace tandem::win32 {

std::string RegistryKey::call(const char* api, const std::string& name) const {
  return std::string(api) + "(" + path_ + (name.empty() ? "" : "\\" + name) + ")";
}

RegistryKey RegistryKey::create(HKEY root, const std::string& path, REGSAM access,
                                SECURITY_ATTRIBUTES* security) {
  HKEY key = nullptr;
  LSTATUS rc = RegCreateKeyExW(root, widen(path).c_str(), 0, nullptr, REG_OPTION_NON_VOLATILE,
                               access, security, &key, nullptr);
  if (rc != ERROR_SUCCESS) throw_error("RegCreateKeyExW(" + path + ")", static_cast<DWORD>(rc));
  return RegistryKey(KeyHandle(key), path, access);
}

std::optional<RegistryKey> RegistryKey::open(HKEY root, const std::string& path, REGSAM access) {
  HKEY key = nullptr;
  LSTATUS rc = RegOpenKeyExW(root, widen(path).c_str(), 0, access, &key);
  if (rc == ERROR_FILE_NOT_FOUND) return std::nullopt;
  if (rc != ERROR_SUCCESS) throw_error("RegOpenKeyExW(" + path + ")", static_cast<DWORD>(rc));
  return RegistryKey(KeyHandle(key), path, access);
}

void RegistryKey::delete_tree(HKEY root, const std::string& path) {
  LSTATUS rc = RegDeleteTreeW(root, widen(path).c_str());
  if (rc != ERROR_SUCCESS && rc != ERROR_FILE_NOT_FOUND) {
    throw_error("RegDeleteTreeW(" + path + ")", static_cast<DWORD>(rc));
  }
  if (rc == ERROR_SUCCESS) {
    // RegDeleteTreeW empties the key; the key itself goes with RegDeleteKeyW.
    rc = RegDeleteKeyW(root, widen(path).c_str());
    if (rc != ERROR_SUCCESS && rc != ERROR_FILE_NOT_FOUND) {
      throw_error("RegDeleteKeyW(" + path + ")", static_cast<DWORD>(rc));
    }
  }
}

void RegistryKey::set_string(const std::string& name, const std::string& value) {
  set_text(name, value, REG_SZ);
}

void RegistryKey::set_expand_string(const std::string& name, const std::string& value) {
  set_text(name, value, REG_EXPAND_SZ);
}

void RegistryKey::set_text(const std::string& name, const std::string& value, DWORD type) {
  require(KEY_SET_VALUE, "RegSetValueExW", name);
  std::wstring w = widen(value);
  LSTATUS rc = RegSetValueExW(key_.get(), widen(name).c_str(), 0, type,
                              reinterpret_cast<const BYTE*>(w.c_str()),
                              static_cast<DWORD>((w.size() + 1) * sizeof(wchar_t)));
  if (rc != ERROR_SUCCESS) throw_error(call("RegSetValueExW", name), static_cast<DWORD>(rc));
}

void RegistryKey::set_dword(const std::string& name, std::uint32_t value) {
  require(KEY_SET_VALUE, "RegSetValueExW", name);
  DWORD v = value;
  LSTATUS rc = RegSetValueExW(key_.get(), widen(name).c_str(), 0, REG_DWORD,
                              reinterpret_cast<const BYTE*>(&v), sizeof(v));
  if (rc != ERROR_SUCCESS) throw_error(call("RegSetValueExW", name), static_cast<DWORD>(rc));
}

std::optional<std::string> RegistryKey::get_string(const std::string& name) const {
  require(KEY_QUERY_VALUE, "RegGetValueW", name);
  std::wstring wname = widen(name);
  std::wstring buffer(64, L'\0');
  LSTATUS rc = ERROR_MORE_DATA;
  // A writer may lengthen the value between asking its size and reading it: ask again.
  while (rc == ERROR_MORE_DATA) {
    auto bytes = static_cast<DWORD>(buffer.size() * sizeof(wchar_t));
    rc = RegGetValueW(key_.get(), nullptr, wname.c_str(), RRF_RT_REG_SZ, nullptr, buffer.data(),
                      &bytes);
    if (rc == ERROR_MORE_DATA) buffer.assign(bytes / sizeof(wchar_t) + 1, L'\0');
  }
  if (rc == ERROR_FILE_NOT_FOUND) return std::nullopt;
  if (rc != ERROR_SUCCESS) throw_error(call("RegGetValueW", name), static_cast<DWORD>(rc));
  buffer.resize(wcsnlen(buffer.c_str(), buffer.size()));
  return narrow(buffer);
}

std::optional<std::uint32_t> RegistryKey::get_dword(const std::string& name) const {
  require(KEY_QUERY_VALUE, "RegGetValueW", name);
  DWORD value = 0;
  DWORD bytes = sizeof(value);
  LSTATUS rc = RegGetValueW(key_.get(), nullptr, widen(name).c_str(), RRF_RT_REG_DWORD, nullptr,
                            &value, &bytes);
  if (rc == ERROR_FILE_NOT_FOUND) return std::nullopt;
  if (rc != ERROR_SUCCESS) throw_error(call("RegGetValueW", name), static_cast<DWORD>(rc));
  return value;
}

void RegistryKey::delete_value(const std::string& name) {
  require(KEY_SET_VALUE, "RegDeleteValueW", name);
  LSTATUS rc = RegDeleteValueW(key_.get(), widen(name).c_str());
  if (rc != ERROR_SUCCESS && rc != ERROR_FILE_NOT_FOUND) {
    throw_error(call("RegDeleteValueW", name), static_cast<DWORD>(rc));
  }
}

void RegistryKey::notify_change(HANDLE event) {
  require(KEY_NOTIFY, "RegNotifyChangeKeyValue");
  LSTATUS rc = RegNotifyChangeKeyValue(
      key_.get(), TRUE, REG_NOTIFY_CHANGE_LAST_SET | REG_NOTIFY_CHANGE_NAME, event, TRUE);
  if (rc != ERROR_SUCCESS) throw_error(call("RegNotifyChangeKeyValue"), static_cast<DWORD>(rc));
}

}  // namespace tandem::win32
