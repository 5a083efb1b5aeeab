// The text side of one request: sampled tokens become whole UTF-8 pieces, stop strings are cut
// off, and each piece is streamed to the caller. Knows nothing of llama.cpp's context or batch.
#pragma once

#include <string>
#include <vector>

#include "inference/completion.h"
#include "inference/stop_matcher.h"
#include "inference/utf8.h"

namespace tandem::inference {

class Generation {
 public:
  // `on_piece` may be empty; it must outlive this object.
  Generation(const SamplingParams& params, const PieceCallback& on_piece);

  struct Token {
    std::string bytes;                // the token's text, possibly part of a character
    float logprob = 0;                // when logprobs were asked for
    std::vector<TokenLogprob> top{};  // idem, best first
  };
  enum class Outcome { more, stop, cancelled };

  // The next sampled (non end-of-generation) token. `stop` once a stop string appeared,
  // `cancelled` once the callback refused a piece. An exception from the callback propagates.
  Outcome add(Token token);
  // Generation ended for `reason` (stop at an end-of-generation token, or length): hands out
  // what was held back. Returns the reason the result carries.
  FinishReason finish(FinishReason reason);

  CompletionResult& result() { return result_; }

 private:
  // Returns false when the callback refused a piece.
  bool emit(std::vector<Piece> pieces);

  bool logprobs_ = false;
  const PieceCallback& on_piece_;
  Utf8Assembler utf8_;
  StopMatcher stop_;
  Piece building_;  // tokens whose bytes do not yet make a whole character
  bool building_any_ = false;
  bool cancelled_ = false;
  CompletionResult result_;
};

}  // namespace tandem::inference
