#include "common/process/line_splitter.h"

#include <algorithm>

namespace tandem {

namespace {

bool is_continuation_byte(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

}  // namespace

void LineSplitter::feed(std::string_view bytes) {
  buffer_.append(bytes);
  drain(false);
}

void LineSplitter::finish() {
  drain(true);
  if (!buffer_.empty()) sink_(buffer_);  // drain left at most kMaxLine bytes, no line ending
  buffer_.clear();
  scanned_ = 0;
}

void LineSplitter::drain(bool at_end) {
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = buffer_.find_first_of("\r\n", std::max(start, scanned_));
    const std::size_t length = (end == std::string::npos ? buffer_.size() : end) - start;
    if (length > kMaxLine) {
      start = deliver_piece(start);
      continue;
    }
    if (end == std::string::npos) {
      scanned_ = buffer_.size();
      break;
    }
    std::size_t next = end + 1;
    bool keep_empty = true;
    if (buffer_[end] == '\r') {
      if (next == buffer_.size() && !at_end) {  // CR LF or a lone CR: the next byte decides
        scanned_ = end;
        break;
      }
      if (next < buffer_.size() && buffer_[next] == '\n') {
        ++next;
      } else {
        keep_empty = false;
      }
    }
    if (length > 0 || keep_empty) sink_(std::string_view(buffer_).substr(start, length));
    start = next;
  }
  buffer_.erase(0, start);
  scanned_ = scanned_ > start ? scanned_ - start : 0;
}

std::size_t LineSplitter::deliver_piece(std::size_t start) {
  std::size_t cut = start + kMaxLine;  // callers ensure more than kMaxLine bytes follow `start`
  // Cut before a character rather than inside it (a UTF-8 character is at most 4 bytes).
  std::size_t lead = cut;
  while (lead > cut - 3 && is_continuation_byte(buffer_[lead])) --lead;
  if (!is_continuation_byte(buffer_[lead])) cut = lead;
  sink_(std::string_view(buffer_).substr(start, cut - start));
  return cut;
}

}  // namespace tandem
