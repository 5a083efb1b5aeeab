// Byte counts as people read them in messages and status lines (one rule for the whole house).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace tandem {

// "0.4 MiB" and "7.6 MiB" (a small model's size still says something), "512 MiB", "1.5 GiB".
inline std::string byte_size_text(std::uint64_t bytes) {
  const double mib = static_cast<double>(bytes) / (1024.0 * 1024.0);
  char text[32];
  if (mib >= 1024) {
    std::snprintf(text, sizeof text, "%.1f GiB", mib / 1024);
  } else if (mib < 10) {
    std::snprintf(text, sizeof text, "%.1f MiB", mib);
  } else {
    std::snprintf(text, sizeof text, "%.0f MiB", mib);
  }
  return text;
}

}  // namespace tandem
