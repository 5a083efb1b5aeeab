// The physical memory a new allocation can have without swapping: Linux's MemAvailable,
// Windows' ullAvailPhys. Each platform's part is in posix/ and win32/system_memory.cpp.
#pragma once

#include <cstdint>
#include <optional>

namespace tandem {

// nullopt when the system does not say.
std::optional<std::uint64_t> available_memory();

}  // namespace tandem
