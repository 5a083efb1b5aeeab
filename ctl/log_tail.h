// `tandemctl logs`: the last lines of a log file, read from its end only, and following what is
// appended, across rotation (the file renamed away and a new one started). Portable.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tandem::ctl {

struct Tail {
  std::vector<std::string> lines;  // without line ends (LF or CRLF)
  std::uintmax_t end = 0;          // the file's size when read: where following starts
};

// The last `count` lines of `file`, reading whole blocks back from its end until it has them.
// A last line without a line end counts. Error naming the file when it cannot be read.
Tail tail_lines(const std::filesystem::path& file, std::size_t count);

// Reads what was appended to a file since the last call. The file is opened only while it is
// read, so the writer can rotate it; a file that got shorter, or whose first bytes differ from
// those seen before, is a new file and is read from its start.
class LogFollower {
 public:
  LogFollower(std::filesystem::path file, std::uintmax_t offset);
  // Complete lines appended since the last call (a partial last line waits for its end).
  std::vector<std::string> poll();

 private:
  std::filesystem::path file_;
  std::uintmax_t offset_ = 0;
  std::string head_;     // up to kHeadBytes from the start of the file, as last seen
  std::string partial_;  // text after the last line end read so far
};

}  // namespace tandem::ctl
