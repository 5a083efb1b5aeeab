#include "inference/generation.h"

#include <utility>

namespace tandem::inference {

Generation::Generation(const SamplingParams& params, const PieceCallback& on_piece)
    : logprobs_(params.top_logprobs >= 0), on_piece_(on_piece), stop_(params.stop) {}

bool Generation::emit(std::vector<Piece> pieces) {
  for (auto& piece : pieces) {
    if (cancelled_) return false;
    result_.text += piece.text;
    if (on_piece_ && !on_piece_(piece)) cancelled_ = true;
    if (logprobs_) result_.pieces.push_back(std::move(piece));
  }
  return !cancelled_;
}

Generation::Outcome Generation::add(Token token) {
  if (cancelled_) return Outcome::cancelled;
  if (stop_.stopped()) return Outcome::stop;
  // A piece spanning several tokens carries the log-probability of all of them together and
  // the alternatives to its first token.
  if (!building_any_) {
    building_ = Piece{};
    building_.tokens = 0;
    if (logprobs_) building_.top = std::move(token.top);
    building_any_ = true;
  }
  building_.logprob += token.logprob;
  building_.tokens += 1;
  building_.text = utf8_.push(token.bytes);
  if (building_.text.empty()) return Outcome::more;  // mid-character, or a token with no text

  building_any_ = false;
  if (!emit(stop_.push(std::move(building_)))) return Outcome::cancelled;
  return stop_.stopped() ? Outcome::stop : Outcome::more;
}

FinishReason Generation::finish(FinishReason reason) {
  if (cancelled_) return FinishReason::cancelled;
  if (stop_.stopped() || reason == FinishReason::cancelled) return reason;
  if (building_any_) {
    building_.text = utf8_.finish();
    building_any_ = false;
    if (!building_.text.empty() && !emit(stop_.push(std::move(building_)))) {
      return FinishReason::cancelled;
    }
    if (stop_.stopped()) return FinishReason::stop;
  }
  if (!emit(stop_.flush())) return FinishReason::cancelled;
  return reason;
}

}  // namespace tandem::inference
