#include "common/system_memory.h"

#include <windows.h>

namespace tandem {

// GlobalMemoryStatusEx needs no access right or privilege (docs/windows-contracts.md).
std::optional<std::uint64_t> available_memory() {
  MEMORYSTATUSEX status{};
  status.dwLength = sizeof status;
  if (!GlobalMemoryStatusEx(&status)) return std::nullopt;
  return status.ullAvailPhys;
}

}  // namespace tandem
