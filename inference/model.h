// One loaded GGUF model: its name, its vocabulary (text to tokens and back) and its chat
// template. An engine decodes with it; it knows nothing of contexts, slots or requests.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <llama.h>

#include "common/llama/chat_template.h"
#include "inference/completion.h"
#include "inference/offload_plan.h"
#include "inference/sampling.h"

namespace tandem::inference {

class Model {
 public:
  // Loads `file`, its layers on the GPUs as `offload` says; throws tandem::Error naming it if it
  // cannot. `progress` (0..1) is called while loading, and an exception from it cancels the load
  // and propagates.
  Model(const std::filesystem::path& file, const std::function<void(float)>& progress,
        const OffloadPlan& offload = {});

  llama_model* get() const { return model_.get(); }
  const llama_vocab* vocab() const { return vocab_; }
  int n_vocab() const { return n_vocab_; }
  const std::string& id() const { return id_; }  // general.name, else the file's stem
  bool is_test_model() const;                    // the bundled random-weight model
  const llama::ChatTemplate& chat() const { return *chat_; }

  // Special tokens are parsed, so that a chat template's markers become the model's own tokens.
  // `add_special`: the tokens the model puts around a text (BOS) are added; `parse_special`
  // false reads special tokens' text as plain text.
  std::vector<llama_token> tokenize(const std::string& text, bool add_special = true,
                                    bool parse_special = true) const;
  // A GGUF metadata value as text; empty when the model has none.
  std::string meta(const std::string& key) const;
  std::string token_bytes(llama_token token, bool special = false) const;
  // One piece per prompt token, with the text of the prompt it covers; logprobs still NaN.
  std::vector<Piece> prompt_pieces(const std::string& prompt,
                                   const std::vector<llama_token>& tokens) const;
  // The alternatives of `lp` as texts.
  std::vector<TokenLogprob> alternatives(const TokenLogprobs& lp) const;

 private:
  struct ModelFree {
    void operator()(llama_model* m) const { llama_model_free(m); }
  };
  std::unique_ptr<llama_model, ModelFree> model_;
  const llama_vocab* vocab_ = nullptr;
  int n_vocab_ = 0;
  std::string general_name_;
  std::string id_;
  std::optional<llama::ChatTemplate> chat_;
};

}  // namespace tandem::inference
