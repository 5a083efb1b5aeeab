#include "common/win32/trainer_registry.h"

#include "common/win32/registry.h"
#include "common/win32/registry_publication.h"

namespace tandem::win32 {

std::optional<TrainerStatus> read_trainer_registry() {
  auto key = RegistryKey::open(HKEY_LOCAL_MACHINE, kTrainerKey);
  if (!key) return std::nullopt;
  return read_trainer_status_values(RegistryValues(*key));
}

}  // namespace tandem::win32
