// A service's status as flat named values: what a registry key holds (REG_SZ or REG_DWORD),
// portable so the code that composes them is tested without Windows.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace tandem {

using StatusValue = std::variant<std::string, std::uint32_t>;
using StatusValues = std::vector<std::pair<std::string, StatusValue>>;

}  // namespace tandem
