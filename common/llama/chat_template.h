// Chat messages to one text: the model's own template when llama.cpp knows it, else ChatML. The
// server renders prompts with it; the trainer's finetune jobs render chat records.
#pragma once

#include <string>
#include <vector>

struct llama_model;

namespace tandem::llama {

struct ChatMessage {
  std::string role;  // system, user, assistant
  std::string content;
};

class ChatTemplate {
 public:
  // Picks the model's template if it has one that llama.cpp can apply.
  explicit ChatTemplate(const llama_model* model);

  // The conversation followed by the opening of the assistant's turn (a prompt), or without it
  // (a finished conversation, to train on).
  std::string apply(const std::vector<ChatMessage>& messages,
                    bool add_assistant_opening = true) const;

 private:
  static constexpr const char* kChatml = "chatml";  // a name llama.cpp always knows
  std::string template_;
};

}  // namespace tandem::llama
