#include "common/win32/trainer_registry.h"

#include "common/win32/registry.h"
#include "common/win32/registry_publication.h"

namespace tandem::win32 {

std::optional<TrainerPublished> read_trainer_registry() {
  auto key = RegistryKey::open(HKEY_LOCAL_MACHINE, kTrainerKey);
  if (!key) return std::nullopt;
  TrainerPublished t;
  t.state = key->get_string("State").value_or("");
  t.job = key->get_string("Job").value_or("");
  t.last_error = key->get_string("LastError").value_or("");
  t.server_url = key->get_string("ServerUrl").value_or("");
  t.items_done = key->get_dword("ItemsDone").value_or(0);
  t.items_total = key->get_dword("ItemsTotal").value_or(0);
  t.jobs_done = key->get_dword("JobsDone").value_or(0);
  t.jobs_failed = key->get_dword("JobsFailed").value_or(0);
  t.pid = key->get_dword("Pid").value_or(0);
  return t;
}

}  // namespace tandem::win32
