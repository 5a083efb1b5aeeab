// Chat messages to one prompt through the model's own chat template, rendered by a real Jinja
// engine (llama.cpp's common chat library; ChatML when the model has none or its template does
// not parse). Tools go through the template's own tool-call format when it has one, else
// through a generic JSON form (generic_tools.h); both are constrained by a grammar.
#pragma once

#include <memory>
#include <vector>

#include "inference/completion.h"

struct llama_model;

namespace tandem::inference {

class ChatTemplate {
 public:
  explicit ChatTemplate(const llama_model* model);
  ~ChatTemplate();
  ChatTemplate(const ChatTemplate&) = delete;
  ChatTemplate& operator=(const ChatTemplate&) = delete;

  // The conversation followed by the opening of the assistant's turn, and what the answer must
  // follow. InputError naming the request argument when the template refuses the conversation
  // or a schema cannot become a grammar.
  ChatPrompt apply(const std::vector<ChatMessage>& messages, const ChatOptions& options) const;

  // Whether the template has a tool-call format of its own.
  bool native_tools() const { return native_tools_; }

 private:
  struct Templates;
  std::unique_ptr<Templates> templates_;
  bool native_tools_ = false;
};

}  // namespace tandem::inference
