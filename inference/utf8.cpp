#include "inference/utf8.h"

#include <cstddef>

namespace tandem::inference {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

struct Sequence {
  enum class Kind { whole, invalid, incomplete } kind;
  std::size_t length;  // bytes taken: the character, or the maximal invalid subpart
};

// The allowed range of the second byte after a lead byte (Unicode 15, table 3-7).
bool second_byte_ok(unsigned char lead, unsigned char b) {
  if (lead == 0xE0) return b >= 0xA0 && b <= 0xBF;
  if (lead == 0xED) return b >= 0x80 && b <= 0x9F;
  if (lead == 0xF0) return b >= 0x90 && b <= 0xBF;
  if (lead == 0xF4) return b >= 0x80 && b <= 0x8F;
  return b >= 0x80 && b <= 0xBF;
}

Sequence next_sequence(std::string_view s, std::size_t at) {
  const auto lead = static_cast<unsigned char>(s[at]);
  std::size_t need = 0;
  if (lead < 0x80) return {Sequence::Kind::whole, 1};
  if (lead >= 0xC2 && lead <= 0xDF) {
    need = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    need = 3;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    need = 4;
  } else {
    return {Sequence::Kind::invalid, 1};
  }
  for (std::size_t i = 1; i < need; ++i) {
    if (at + i >= s.size()) return {Sequence::Kind::incomplete, i};
    const auto b = static_cast<unsigned char>(s[at + i]);
    const bool ok = i == 1 ? second_byte_ok(lead, b) : (b >= 0x80 && b <= 0xBF);
    if (!ok) return {Sequence::Kind::invalid, i};
  }
  return {Sequence::Kind::whole, need};
}

// Valid UTF-8 for `s`; an incomplete tail is returned in `tail` when wanted, else replaced.
std::string decode(std::string_view s, std::string* tail) {
  std::string out;
  out.reserve(s.size());
  std::size_t at = 0;
  while (at < s.size()) {
    const Sequence seq = next_sequence(s, at);
    switch (seq.kind) {
      case Sequence::Kind::whole:
        out.append(s.substr(at, seq.length));
        break;
      case Sequence::Kind::invalid:
        out.append(kReplacement);
        break;
      case Sequence::Kind::incomplete:
        if (tail) {
          tail->assign(s.substr(at));
        } else {
          out.append(kReplacement);
        }
        break;
    }
    at += seq.length;
    if (seq.kind == Sequence::Kind::incomplete) break;
  }
  return out;
}

}  // namespace

std::string Utf8Assembler::push(std::string_view bytes) {
  held_.append(bytes);
  std::string tail;
  std::string out = decode(held_, &tail);
  held_ = std::move(tail);
  return out;
}

std::string Utf8Assembler::finish() {
  std::string out = decode(held_, nullptr);
  held_.clear();
  return out;
}

std::string to_valid_utf8(std::string_view bytes) {
  return decode(bytes, nullptr);
}

}  // namespace tandem::inference
