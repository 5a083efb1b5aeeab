// Publishes an endpoint in the registry as docs/architecture.md#registry-publication says, and
// reads it back. The LLM server writes HKLM\SOFTWARE\Tandem\LlmServer; the trainer its own key.
#pragma once

#include <windows.h>

#include <optional>
#include <string>

#include "common/discovery/endpoint.h"
#include "common/discovery/publication_values.h"
#include "common/win32/registry.h"

namespace tandem::win32 {

inline constexpr const char* kLlmServerKey = "SOFTWARE\\Tandem\\LlmServer";
inline constexpr const char* kTrainerKey = "SOFTWARE\\Tandem\\Trainer";
// SYSTEM and Administrators full, Users read; inherited by subkeys.
inline constexpr const char* kPublicationKeySddl =
    "D:P(A;OICI;KA;;;SY)(A;OICI;KA;;;BA)(A;OICI;KR;;;BU)";
// kPublicationKeySddl plus full control for the service's own SID (NT SERVICE\<name>), so the
// service can write (and re-apply this DACL) when it runs under its virtual account. The
// installer pre-creates the key with it: a virtual account cannot create keys under HKLM.
std::string publication_key_sddl(std::string_view service_name);

// Opens or creates root\path and (re)applies `sddl` as its DACL, so a key left by an earlier run
// or another tool is locked down too. Needs administrator rights under HKLM.
RegistryKey create_locked_down(HKEY root, const std::string& path,
                               const std::string& sddl = kPublicationKeySddl);

// A key's values as the portable codecs read and write them (publication_values.h,
// trainer_status.h).
class RegistryValues final : public discovery::ValueStore {
 public:
  explicit RegistryValues(RegistryKey& key) : key_(key) {}
  void set_string(const std::string& name, const std::string& value) override {
    key_.set_string(name, value);
  }
  void set_dword(const std::string& name, std::uint32_t value) override {
    key_.set_dword(name, value);
  }
  void remove(const std::string& name) override { key_.delete_value(name); }
  std::optional<std::string> get_string(const std::string& name) const override {
    return key_.get_string(name);
  }
  std::optional<std::uint32_t> get_dword(const std::string& name) const override {
    return key_.get_dword(name);
  }

 private:
  RegistryKey& key_;
};

class RegistryPublication {
 public:
  // Creates the key if needed and (re)applies `sddl` as its DACL, so a key left by an earlier
  // run or another tool is locked down too. Needs administrator rights under HKLM.
  explicit RegistryPublication(std::string key_path, HKEY root = HKEY_LOCAL_MACHINE,
                               const std::string& sddl = kPublicationKeySddl);

  // State=starting, Port/Url deleted, identity values written.
  void starting(const discovery::Endpoint& endpoint);
  // Port, Url and everything else, State=ready last. Throws if the endpoint has no port/url.
  void ready(const discovery::Endpoint& endpoint);
  // State=stopping, Port/Url deleted, State=stopped.
  void withdraw();

  const RegistryKey& key() const { return key_; }

 private:
  RegistryKey key_;
};

// The published endpoint under root\key_path; std::nullopt if the key or its State value is
// missing. Throws tandem::Error for values that break the contract (see read_endpoint).
std::optional<discovery::Endpoint> read_publication(const std::string& key_path,
                                                    HKEY root = HKEY_LOCAL_MACHINE);

}  // namespace tandem::win32
