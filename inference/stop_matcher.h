// Stop strings for one request: generation ends before the first occurrence, and no part of a
// stop string ever reaches the caller, so a tail that could be the start of one is held back
// until the next pieces show whether it is.
#pragma once

#include <string>
#include <vector>

#include "inference/completion.h"

namespace tandem::inference {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops);

  // Takes the next piece; returns the pieces now safe to hand out, in order. Once a stop string
  // has appeared, stopped() is true and the pieces returned end right before it (the piece it
  // starts in is cut there).
  std::vector<Piece> push(Piece piece);
  // End of generation without a stop string: everything still held.
  std::vector<Piece> flush();
  bool stopped() const { return stopped_; }

 private:
  std::size_t held_tail_length() const;

  std::vector<std::string> stops_;
  std::vector<Piece> held_;
  std::string held_text_;  // the text of held_, concatenated
  bool stopped_ = false;
};

}  // namespace tandem::inference
