// Chat messages to one text through the model's own chat template, rendered by a real Jinja
// engine (llama.cpp's common chat library; ChatML when the model has none or its template does
// not parse). The server renders prompts with it (inference/chat_format.* adds tools and output
// formats); the trainer's finetune jobs render chat records.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

struct llama_model;
struct common_chat_templates;

namespace tandem::llama {

// A function call the model made: `arguments` is the JSON text of its arguments object.
struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;
};

struct ChatMessage {
  ChatMessage() = default;
  ChatMessage(std::string role_, std::string content_, std::vector<ToolCall> tool_calls_ = {},
              std::string tool_call_id_ = {})
      : role(std::move(role_)),
        content(std::move(content_)),
        tool_calls(std::move(tool_calls_)),
        tool_call_id(std::move(tool_call_id_)) {}

  std::string role;  // system, user, assistant, tool
  std::string content;
  std::vector<ToolCall> tool_calls;  // an assistant turn that called tools
  std::string tool_call_id;          // a tool turn: the call whose result `content` is
};

class ChatTemplate {
 public:
  explicit ChatTemplate(const llama_model* model);
  ~ChatTemplate();
  ChatTemplate(const ChatTemplate&) = delete;
  ChatTemplate& operator=(const ChatTemplate&) = delete;

  // The conversation followed by the opening of the assistant's turn (a prompt), or without it
  // (a finished conversation, to train on). InputError naming `messages` when the template
  // refuses them.
  std::string apply(const std::vector<ChatMessage>& messages,
                    bool add_assistant_opening = true) const;

  // Whether the template has a tool-call format of its own.
  bool native_tools() const { return native_tools_; }
  // llama.cpp's templates, for the server's tool formats (inference/chat_format.cpp).
  const common_chat_templates* templates() const;

 private:
  struct Templates;
  std::unique_ptr<Templates> templates_;
  bool native_tools_ = false;
};

}  // namespace tandem::llama
