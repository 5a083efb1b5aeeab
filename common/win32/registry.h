// A registry key with typed values; names and values are UTF-8 on our side.
#pragma once

#include <windows.h>

#include <cstdint>
#include <optional>
#include <string>

#include "common/win32/access.h"
#include "common/win32/handle.h"

namespace tandem::win32 {

// Each call checks, before it is made, that the key was opened with the right Microsoft documents
// for it (in brackets; access.h): AccessRightMissing otherwise.
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

  // [KEY_SET_VALUE]
  void set_string(const std::string& name, const std::string& value);
  // REG_EXPAND_SZ: %SystemRoot% and the like are expanded by the reader.
  void set_expand_string(const std::string& name, const std::string& value);
  void set_dword(const std::string& name, std::uint32_t value);
  // [KEY_QUERY_VALUE]
  std::optional<std::string> get_string(const std::string& name) const;
  std::optional<std::uint32_t> get_dword(const std::string& name) const;
  // A missing value is not an error. [KEY_SET_VALUE]
  void delete_value(const std::string& name);

  // Arms a one-shot notification: `event` is signalled on the next change of a value in this
  // key (or of its subkeys). Re-arm after each signal. [KEY_NOTIFY]
  void notify_change(HANDLE event);

  HKEY get() const { return key_.get(); }
  const std::string& path() const { return path_; }
  const AccessRights& rights() const { return rights_; }

 private:
  RegistryKey(KeyHandle key, std::string path, REGSAM access)
      : key_(std::move(key)), path_(std::move(path)), rights_(kRegistryKeyRights, access) {}
  std::string call(const char* api, const std::string& name = {}) const;
  void set_text(const std::string& name, const std::string& value, DWORD type);
  void require(DWORD needed, const char* api, const std::string& name = {}) const {
    rights_.require(needed, call(api, name));
  }

  KeyHandle key_;
  std::string path_;
  AccessRights rights_;
};

}  // namespace tandem::win32
