#include "inference/stop_matcher.h"

#include <algorithm>
#include <string_view>
#include <utility>

namespace tandem::inference {

StopMatcher::StopMatcher(std::vector<std::string> stops) {
  for (auto& s : stops) {
    if (!s.empty()) stops_.push_back(std::move(s));
  }
}

std::size_t StopMatcher::held_tail_length() const {
  // The longest end of the held text that is a proper prefix of some stop string.
  const std::string_view text = held_text_;
  std::size_t longest = 0;
  for (const auto& stop : stops_) {
    const std::size_t most = std::min(stop.size() - 1, text.size());
    for (std::size_t n = most; n > longest; --n) {
      if (text.substr(text.size() - n) == std::string_view(stop).substr(0, n)) {
        longest = n;
        break;
      }
    }
  }
  return longest;
}

std::vector<Piece> StopMatcher::push(Piece piece) {
  std::vector<Piece> out;
  if (stopped_) return out;
  held_text_ += piece.text;
  held_.push_back(std::move(piece));
  if (stops_.empty()) return flush();

  // A stop string cannot start in text already handed out (that text was never a possible
  // start), so searching the held text is enough.
  std::size_t cut = std::string::npos;
  for (const auto& stop : stops_) cut = std::min(cut, held_text_.find(stop));
  if (cut != std::string::npos) {
    std::size_t begin = 0;
    for (auto& p : held_) {
      if (begin >= cut) break;
      if (begin + p.text.size() > cut) p.text.resize(cut - begin);
      begin += p.text.size();
      out.push_back(std::move(p));
    }
    held_.clear();
    held_text_.clear();
    stopped_ = true;
    return out;
  }

  // Hand out whole pieces that end before the tail that might still become a stop string.
  const std::size_t safe = held_text_.size() - held_tail_length();
  std::size_t end = 0;
  std::size_t n = 0;
  while (n < held_.size() && end + held_[n].text.size() <= safe) {
    end += held_[n].text.size();
    ++n;
  }
  out.assign(std::make_move_iterator(held_.begin()),
             std::make_move_iterator(held_.begin() + static_cast<std::ptrdiff_t>(n)));
  held_.erase(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(n));
  held_text_.erase(0, end);
  return out;
}

std::vector<Piece> StopMatcher::flush() {
  std::vector<Piece> out = std::move(held_);
  held_.clear();
  held_text_.clear();
  return out;
}

}  // namespace tandem::inference
