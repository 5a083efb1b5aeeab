// Chat messages to one prompt: the model's own template when llama.cpp knows it, else ChatML.
#pragma once

#include <string>
#include <vector>

#include "inference/completion.h"

struct llama_model;

namespace tandem::inference {

class ChatTemplate {
 public:
  // Picks the model's template if it has one that llama.cpp can apply.
  explicit ChatTemplate(const llama_model* model);

  // The conversation followed by the opening of the assistant's turn.
  std::string apply(const std::vector<ChatMessage>& messages) const;

 private:
  static constexpr const char* kChatml = "chatml";  // a name llama.cpp always knows
  std::string template_;
};

}  // namespace tandem::inference
