// A registry key with typed values; names and values are UTF-8 on our side.
#pragma once

#include <windows.h>

#include <cstdint>
#include <optional>
#include <string>

#include "common/win32/handle.h"

namespace tandem::win32 {

class RegistryKey {
 public:
  // Opens or creates `path` under `root`; `security` (may be null) applies only on creation.
  static RegistryKey create(HKEY root, const std::string& path, REGSAM access = KEY_ALL_ACCESS,
                            SECURITY_ATTRIBUTES* security = nullptr);
  // std::nullopt when the key does not exist; Win32Error for any other failure.
  static std::optional<RegistryKey> open(HKEY root, const std::string& path,
                                         REGSAM access = KEY_READ);
  // Deletes the key and everything below it; a missing key is not an error.
  static void delete_tree(HKEY root, const std::string& path);

  void set_string(const std::string& name, const std::string& value);
  void set_dword(const std::string& name, std::uint32_t value);
  std::optional<std::string> get_string(const std::string& name) const;
  std::optional<std::uint32_t> get_dword(const std::string& name) const;
  // A missing value is not an error.
  void delete_value(const std::string& name);

  // Arms a one-shot notification: `event` is signalled on the next change of a value in this
  // key (or of its subkeys). Re-arm after each signal.
  void notify_change(HANDLE event);

  HKEY get() const { return key_.get(); }
  const std::string& path() const { return path_; }

 private:
  RegistryKey(KeyHandle key, std::string path) : key_(std::move(key)), path_(std::move(path)) {}
  std::string call(const char* api, const std::string& name = {}) const;

  KeyHandle key_;
  std::string path_;
};

}  // namespace tandem::win32
