#include "common/spool/job_id.h"

#include <cctype>
#include <cstdint>
#include <optional>

namespace tandem::spool {

std::string make_job_id(std::string_view stem, std::string_view content) {
  // FNV-1a, 64 bit: the same everywhere, no dependency; 32 bits shown are plenty to tell
  // versions of one file apart.
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : content) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  std::string id = std::string(stem) + "-";
  for (int shift = 60; shift >= 32; shift -= 4) id += "0123456789abcdef"[(h >> shift) & 0xf];
  return id;
}

std::string job_stem(std::string_view id) {
  // Where "-<8 hex digits>" ends `s`, the length before it.
  auto before_hash = [](std::string_view s) -> std::optional<std::size_t> {
    if (s.size() < 9 || s[s.size() - 9] != '-') return std::nullopt;
    for (char c : s.substr(s.size() - 8)) {
      if (!std::isdigit(static_cast<unsigned char>(c)) && (c < 'a' || c > 'f')) return std::nullopt;
    }
    return s.size() - 9;
  };
  if (auto n = before_hash(id)) return std::string(id.substr(0, *n));
  auto dash = id.rfind('-');
  if (dash != std::string_view::npos && dash + 1 < id.size() &&
      id.find_first_not_of("0123456789", dash + 1) == std::string_view::npos) {
    if (auto n = before_hash(id.substr(0, dash))) return std::string(id.substr(0, *n));
  }
  return std::string(id);
}

}  // namespace tandem::spool
