// A one-shot change notification on a key under HKLM, or on its nearest parent that exists, so
// that the key's creation is seen too. Armed on construction: make one before reading what it
// guards, so no change slips between the read and the wait; a new one for every round.
#pragma once

#include <windows.h>

#include <optional>
#include <string>

#include "common/win32/registry.h"
#include "common/win32/waits.h"

namespace tandem::win32 {

class RegistryWatch {
 public:
  explicit RegistryWatch(const std::string& path);
  // Signalled at the next change of a value under the watched key.
  HANDLE event() const { return changed_.waitable("a wait on a registry watch"); }

 private:
  Event changed_;
  std::optional<RegistryKey> key_;
};

}  // namespace tandem::win32
