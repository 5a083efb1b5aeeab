#include "inference/slot.h"

namespace tandem::inference {

void Slot::start(std::unique_ptr<Request> r, int n_vocab) {
  request = std::move(r);
  sampler = make_sampler(request->params, n_vocab, request->prompt, request->grammar.get());
  generation.emplace(request->params, *request->on_piece);
  next = LLAMA_TOKEN_NULL;
  generated = 0;
  prompt_done = false;
  copy_from = -1;
  echo_rows.clear();
}

void Slot::resume_from(std::size_t n) {
  if (n == 0) {
    cache.clear();
  } else {
    cache.keep(n, request->prompt_pieces);
  }
  prompt_fed = n;
}

void Slot::begin_step() {
  output = -1;
  in_batch = false;
  prompt_done = false;
  echo_rows.clear();
}

std::vector<Piece> Slot::take_scored_prompt() {
  if (!scoring() || prompt_fed != request->prompt.size() || !echo_rows.empty()) return {};
  cache.scores = request->prompt_pieces;
  cache.scores_top = request->params.top_logprobs;
  return std::move(request->prompt_pieces);
}

std::unique_ptr<Request> Slot::release() {
  generation.reset();
  sampler.reset();
  next = LLAMA_TOKEN_NULL;
  output = -1;
  copy_from = -1;
  echo_rows.clear();
  return std::move(request);
}

}  // namespace tandem::inference
