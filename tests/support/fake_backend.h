// A CompletionBackend without a model: it "generates" a fixed list of pieces, records what it
// was asked, and can be told to fail, so the API's handlers are tested without llama.cpp.
#pragma once

#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "inference/completion.h"

namespace tandem::testing {

class FakeBackend : public inference::CompletionBackend {
 public:
  // What complete() produces, one piece per "token", until max_tokens; with echo and logprobs,
  // prompt_pieces too (see complete()).
  std::vector<std::string> pieces = {"Hello", ",", " world", "!"};
  bool test_model = false;
  Stats fixed_stats{2, 1, 3, 0, 0};
  // Run at the start of complete(), e.g. to throw inference::QueueFull.
  std::function<void()> before_complete;

  std::string model_id() const override { return "fake-model"; }
  bool is_test_model() const override { return test_model; }

  // "<role>content" per message, then "<assistant>": visible in the prompt the test reads back.
  // The options are recorded; `chat_parser` (if set) reads the answer back.
  inference::ChatPrompt apply_chat(const std::vector<inference::ChatMessage>& messages,
                                   const inference::ChatOptions& options) const override {
    inference::ChatPrompt prompt;
    for (const auto& m : messages) prompt.prompt += "<" + m.role + ">" + m.content + "\n";
    prompt.prompt += "<assistant>";
    prompt.parser = chat_parser;
    std::lock_guard lock(mutex_);
    last_chat_options_ = options;
    return prompt;
  }
  std::shared_ptr<const inference::ChatOutputParser> chat_parser;
  inference::ChatOptions last_chat_options() const {
    std::lock_guard lock(mutex_);
    return last_chat_options_;
  }

  inference::CompletionResult complete(const std::string& prompt,
                                       const inference::SamplingParams& params,
                                       const inference::PieceCallback& on_piece = {}) override {
    {
      std::lock_guard lock(mutex_);
      last_prompt_ = prompt;
      last_params_ = params;
      ++calls_;
    }
    if (before_complete) before_complete();
    inference::CompletionResult result;
    result.prompt_tokens = static_cast<int>(prompt.size());  // a "token" per byte
    result.finish = inference::FinishReason::stop;
    if (params.echo && params.top_logprobs >= 0) {
      // A prompt "token" per byte; the first has no logprob, the others -0.5, -1, -1.5, ...
      for (std::size_t i = 0; i < prompt.size(); ++i) {
        inference::Piece piece{prompt.substr(i, 1), -0.5f * static_cast<float>(i), {}};
        if (i == 0) piece.logprob = std::numeric_limits<float>::quiet_NaN();
        for (int k = 0; i > 0 && k < params.top_logprobs; ++k) {
          piece.top.push_back({"alt" + std::to_string(k), -1.0f - static_cast<float>(k)});
        }
        result.prompt_pieces.push_back(std::move(piece));
      }
    }
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      if (result.completion_tokens == params.max_tokens) {
        result.finish = inference::FinishReason::length;
        break;
      }
      inference::Piece piece{pieces[i], -0.25f * static_cast<float>(i + 1), {}};
      for (int k = 0; k < params.top_logprobs; ++k) {
        piece.top.push_back({"alt" + std::to_string(k), -1.0f - static_cast<float>(k)});
      }
      ++result.completion_tokens;
      result.text += piece.text;
      if (params.top_logprobs >= 0) result.pieces.push_back(piece);
      if (on_piece && !on_piece(piece)) {
        std::lock_guard lock(mutex_);
        cancelled_after_ = result.completion_tokens;
        result.finish = inference::FinishReason::cancelled;
        break;
      }
    }
    return result;
  }

  // Choice i runs as one complete() with seed + i (when a seed is set).
  std::vector<inference::CompletionResult> complete_choices(
      const std::string& prompt, const inference::SamplingParams& params, int n,
      const inference::ChoicePieceCallback& on_piece = {}) override {
    if (n > fixed_stats.slots) throw InputError("n", "more choices than slots");
    std::vector<inference::CompletionResult> results;
    for (int i = 0; i < n; ++i) {
      auto p = params;
      if (p.seed) p.seed = *p.seed + static_cast<std::uint32_t>(i);
      inference::PieceCallback one;
      if (on_piece) one = [&, i](const inference::Piece& piece) { return on_piece(i, piece); };
      results.push_back(complete(prompt, p, one));
    }
    return results;
  }

  // kEmbeddingSize numbers from the input's bytes (or ids), normalised: equal inputs give equal
  // vectors. An input "too long" is refused as the engine refuses one over its context.
  static constexpr int kEmbeddingSize = 8;
  inference::Embeddings embed(const std::vector<inference::EmbeddingInput>& inputs) override {
    inference::Embeddings out;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      std::vector<std::int32_t> ids;
      if (const auto* text = std::get_if<std::string>(&inputs[i])) {
        if (*text == "too long") {
          throw InputError("input[" + std::to_string(i) + "]", "is too long for the context");
        }
        ids = tokenize(*text, false);
      } else {
        ids = std::get<std::vector<std::int32_t>>(inputs[i]);
      }
      std::vector<float> v(kEmbeddingSize, 0.0f);
      double sum = 0;
      for (std::size_t j = 0; j < ids.size(); ++j) {
        v[j % v.size()] += static_cast<float>(ids[j] % 17 + 1) * static_cast<float>(j + 1);
      }
      for (float x : v) sum += static_cast<double>(x) * x;
      for (float& x : v) x = static_cast<float>(x / std::sqrt(sum));
      out.vectors.push_back(std::move(v));
      out.prompt_tokens += static_cast<int>(ids.size());
    }
    return out;
  }
  int embedding_size() const override { return kEmbeddingSize; }

  // A token per byte (ids 0..255), BOS (id 1) in front with add_special.
  std::vector<std::int32_t> tokenize(const std::string& text, bool add_special,
                                     bool = true) const override {
    std::vector<std::int32_t> ids;
    if (add_special) ids.push_back(1);
    for (unsigned char c : text) ids.push_back(c);
    return ids;
  }
  std::string token_piece(std::int32_t token) const override {
    return std::string(1, static_cast<char>(token));
  }
  std::string detokenize(const std::vector<std::int32_t>& tokens) const override {
    std::string text;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      if (tokens[i] < 0 || tokens[i] > 255) {
        throw InputError("tokens[" + std::to_string(i) + "]", "not in the vocabulary");
      }
      text += static_cast<char>(tokens[i]);
    }
    return text;
  }

  Stats stats() const override { return fixed_stats; }

  std::string last_prompt() const {
    std::lock_guard lock(mutex_);
    return last_prompt_;
  }
  inference::SamplingParams last_params() const {
    std::lock_guard lock(mutex_);
    return last_params_;
  }
  int calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  // Pieces generated when the callback asked to stop; 0 if it never did.
  int cancelled_after() const {
    std::lock_guard lock(mutex_);
    return cancelled_after_;
  }

 private:
  mutable std::mutex mutex_;
  std::string last_prompt_;
  inference::SamplingParams last_params_;
  mutable inference::ChatOptions last_chat_options_;
  int calls_ = 0;
  int cancelled_after_ = 0;
};

}  // namespace tandem::testing
