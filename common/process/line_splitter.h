// Cuts a program's output into lines as the bytes arrive, so each line reaches the log as soon
// as it is complete. A line ends at LF, CR LF or a lone CR (progress bars such as tqdm redraw
// with a lone CR; waiting for an LF would hold their output back). Endings are stripped. An
// empty line ended by a lone CR carries nothing (a redraw starts with CR) and is dropped; an
// empty line ended by LF is kept. A line longer than kMaxLine bytes comes in pieces of at most
// kMaxLine bytes, cut between UTF-8 characters. At the end, an unfinished last line is delivered.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace tandem {

class LineSplitter {
 public:
  static constexpr std::size_t kMaxLine = 64 * 1024;

  using Sink = std::function<void(std::string_view line)>;
  explicit LineSplitter(Sink sink) : sink_(std::move(sink)) {}

  void feed(std::string_view bytes);
  // End of the stream: delivers what is left.
  void finish();

 private:
  void drain(bool at_end);
  // Delivers up to kMaxLine bytes of buffer_ from `start`; returns where the rest begins.
  std::size_t deliver_piece(std::size_t start);

  Sink sink_;
  std::string buffer_;
  std::size_t scanned_ =
      0;  // bytes of buffer_ known to hold no line ending: each byte is searched once
};

}  // namespace tandem
