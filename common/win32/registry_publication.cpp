#include "common/win32/registry_publication.h"

#include "common/win32/service_sid.h"

#include "common/discovery/publication_values.h"
#include "common/win32/security.h"

namespace tandem::win32 {
namespace {

std::string root_name(HKEY root) {
  if (root == HKEY_LOCAL_MACHINE) return "HKLM\\";
  if (root == HKEY_CURRENT_USER) return "HKCU\\";
  return "";
}

}  // namespace

std::string publication_key_sddl(std::string_view service_name) {
  return std::string(kPublicationKeySddl) + "(A;OICI;KA;;;" + service_sid(service_name) + ")";
}

RegistryKey create_locked_down(HKEY root, const std::string& path, const std::string& sddl) {
  SecurityAttributes security(sddl);
  RegistryKey key = RegistryKey::create(root, path, KEY_ALL_ACCESS, security.get());
  key.rights().require(WRITE_DAC, "SetSecurityInfo(" + root_name(root) + path + ")");
  apply_dacl(key.get(), SE_REGISTRY_KEY, security, root_name(root) + path);
  return key;
}

RegistryPublication::RegistryPublication(std::string key_path, HKEY root, const std::string& sddl)
    : key_(create_locked_down(root, key_path, sddl)) {}

void RegistryPublication::starting(const discovery::Endpoint& endpoint) {
  RegistryValues values(key_);
  discovery::write_starting(values, endpoint);
}

void RegistryPublication::ready(const discovery::Endpoint& endpoint) {
  RegistryValues values(key_);
  discovery::write_ready(values, endpoint);
}

void RegistryPublication::withdraw() {
  RegistryValues values(key_);
  discovery::write_withdrawn(values);
}

std::optional<discovery::Endpoint> read_publication(const std::string& key_path, HKEY root) {
  auto key = RegistryKey::open(root, key_path, KEY_READ);
  if (!key) return std::nullopt;
  RegistryValues values(*key);
  return discovery::read_endpoint(values, root_name(root) + key_path);
}

}  // namespace tandem::win32
