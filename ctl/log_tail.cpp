#include "ctl/log_tail.h"

#include <algorithm>
#include <fstream>

#include "common/error.h"
#include "common/files.h"

namespace tandem::ctl {
namespace fs = std::filesystem;
namespace {

constexpr std::uintmax_t kBlock = 64 * 1024;
constexpr std::size_t kHeadBytes = 256;

std::string read_range(std::ifstream& in, const fs::path& file, std::uintmax_t from,
                       std::uintmax_t size) {
  std::string data(static_cast<std::size_t>(size), '\0');
  in.clear();
  in.seekg(static_cast<std::streamoff>(from));
  in.read(data.data(), static_cast<std::streamsize>(size));
  data.resize(static_cast<std::size_t>(std::max<std::streamsize>(0, in.gcount())));
  if (in.bad()) throw Error("cannot read " + path_utf8(file));
  return data;
}

std::uintmax_t size_of(std::ifstream& in) {
  in.seekg(0, std::ios::end);
  const auto end = in.tellg();
  return end < 0 ? 0 : static_cast<std::uintmax_t>(end);
}

void strip_cr(std::string& line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
}

// Splits `text` into lines; text after the last '\n' stays in `rest`.
std::vector<std::string> split_complete(const std::string& text, std::string& rest) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines.push_back(text.substr(start, nl - start));
    strip_cr(lines.back());
  }
  rest = text.substr(start);
  return lines;
}

}  // namespace

Tail tail_lines(const fs::path& file, std::size_t count) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error("cannot open " + path_utf8(file));
  Tail tail;
  tail.end = size_of(in);
  if (count == 0) return tail;
  // Read back from the end until the text holds `count` line ends before its last line.
  std::string text;
  std::uintmax_t from = tail.end;
  while (from > 0) {
    const std::uintmax_t step = std::min(kBlock, from);
    from -= step;
    text.insert(0, read_range(in, file, from, step));
    const std::size_t body = text.size() - (text.ends_with('\n') ? 1 : 0);
    if (static_cast<std::size_t>(
            std::count(text.begin(), text.begin() + static_cast<long>(body), '\n')) >= count) {
      break;
    }
  }
  std::string rest;
  tail.lines = split_complete(text, rest);
  if (!rest.empty()) {
    strip_cr(rest);
    tail.lines.push_back(rest);
  }
  // The first line may be cut where reading began; only the last `count` are kept anyway.
  if (tail.lines.size() > count) {
    tail.lines.erase(tail.lines.begin(), tail.lines.end() - static_cast<std::ptrdiff_t>(count));
  }
  return tail;
}

LogFollower::LogFollower(fs::path file, std::uintmax_t offset)
    : file_(std::move(file)), offset_(offset) {
  std::ifstream in(file_, std::ios::binary);
  if (in) head_ = read_range(in, file_, 0, std::min<std::uintmax_t>(kHeadBytes, size_of(in)));
}

std::vector<std::string> LogFollower::poll() {
  std::ifstream in(file_, std::ios::binary);
  if (!in) return {};  // rotated away, the new one not written yet
  const std::uintmax_t size = size_of(in);
  const std::string head = read_range(in, file_, 0, std::min<std::uintmax_t>(kHeadBytes, size));
  const std::size_t common = std::min(head.size(), head_.size());
  if (size < offset_ || head.compare(0, common, head_, 0, common) != 0) {
    offset_ = 0;  // a new file
    partial_.clear();
  }
  head_ = head;
  if (size == offset_) return {};
  std::string text = partial_ + read_range(in, file_, offset_, size - offset_);
  offset_ = size;
  return split_complete(text, partial_);
}

}  // namespace tandem::ctl
