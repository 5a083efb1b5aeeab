#include "common/win32/registry_watch.h"

namespace tandem::win32 {

RegistryWatch::RegistryWatch(const std::string& path)
    : changed_(Event::Reset::manual, "change of HKLM\\" + path) {
  for (std::string candidate = path; !candidate.empty();) {
    if (auto key = RegistryKey::open(HKEY_LOCAL_MACHINE, candidate, KEY_NOTIFY)) {
      key_.emplace(std::move(*key));
      key_->notify_change(changed_.signalled_by("RegNotifyChangeKeyValue"));
      return;
    }
    const auto parent = candidate.rfind('\\');
    candidate.resize(parent == std::string::npos ? 0 : parent);
  }
}

}  // namespace tandem::win32
