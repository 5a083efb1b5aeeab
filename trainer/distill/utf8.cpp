#include <cstdint>
#include <cstdio>

#include "trainer/distill/dataset.h"

namespace tandem::distill {
namespace {

std::string hex_byte(unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", c);
  return buf;
}

}  // namespace

std::optional<std::string> utf8_problem(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::string at = " at column " + std::to_string(i + 1);
    std::size_t length = 0;
    std::uint32_t min = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      length = 2;
      min = 0x80;
      cp = c & 0x1Fu;
    } else if ((c & 0xF0) == 0xE0) {
      length = 3;
      min = 0x800;
      cp = c & 0x0Fu;
    } else if ((c & 0xF8) == 0xF0) {
      length = 4;
      min = 0x10000;
      cp = c & 0x07u;
    } else {
      return "byte " + hex_byte(c) + at + " cannot start a UTF-8 character";
    }
    if (i + length > s.size()) return "UTF-8 character cut short" + at;
    for (std::size_t k = 1; k < length; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) {
        return "byte " + hex_byte(cc) + " at column " + std::to_string(i + k + 1) +
               " breaks the UTF-8 character that starts at column " + std::to_string(i + 1);
      }
      cp = cp << 6 | (cc & 0x3F);
    }
    if (cp < min) return "overlong UTF-8 encoding" + at;
    if (cp >= 0xD800 && cp <= 0xDFFF) return "UTF-16 surrogate encoded in UTF-8" + at;
    if (cp > 0x10FFFF) return "code point above U+10FFFF" + at;
    i += length;
  }
  return std::nullopt;
}

}  // namespace tandem::distill
