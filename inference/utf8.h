// Token text arrives as bytes, and a character may span tokens (byte-fallback vocabularies):
// these helpers hand out only whole, valid UTF-8 so that no piece ever carries half a character.
#pragma once

#include <string>
#include <string_view>

namespace tandem::inference {

// Bytes in, whole characters out. An incomplete sequence at the end is held until the bytes that
// complete it arrive; bytes that can never become valid UTF-8 are replaced by U+FFFD.
class Utf8Assembler {
 public:
  // Appends `bytes`; returns every whole character now available (possibly empty).
  std::string push(std::string_view bytes);
  // End of the stream: what is still held, an incomplete sequence replaced by U+FFFD.
  std::string finish();
  bool holding() const { return !held_.empty(); }

 private:
  std::string held_;
};

// `bytes` as valid UTF-8: each invalid or incomplete sequence becomes U+FFFD.
std::string to_valid_utf8(std::string_view bytes);

}  // namespace tandem::inference
