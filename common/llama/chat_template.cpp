#include "common/llama/chat_template.h"

#include <exception>
#include <string>

#include "common/error.h"
#include "common/llama/chat_messages.h"
#include "common/log.h"
// llama.cpp's common chat library (its headers expose no JSON library of their own).
#include "chat.h"

namespace tandem::llama {

struct ChatTemplate::Templates {
  common_chat_templates_ptr ptr;
};

namespace {

common_chat_templates_ptr init(const llama_model* model) {
  try {
    auto own = common_chat_templates_init(model, "");
    TLOG(info) << "chat template: "
               << (common_chat_templates_was_explicit(own.get()) ? "the model's own"
                                                                 : "the model has none, ChatML");
    return own;
  } catch (const std::exception& e) {
    TLOG(warning) << "chat template: the model's template does not parse (" << e.what()
                  << "), using ChatML";
    return common_chat_templates_init(model, "chatml");
  }
}

}  // namespace

ChatTemplate::ChatTemplate(const llama_model* model)
    : templates_(std::make_unique<Templates>(Templates{init(model)})) {
  const auto caps = common_chat_templates_get_caps(templates_->ptr.get());
  const auto it = caps.find("supports_tool_calls");
  native_tools_ = it != caps.end() && it->second;
}

ChatTemplate::~ChatTemplate() = default;

const common_chat_templates* ChatTemplate::templates() const {
  return templates_->ptr.get();
}

std::string ChatTemplate::apply(const std::vector<ChatMessage>& messages,
                                bool add_assistant_opening) const {
  common_chat_templates_inputs in;
  in.messages = to_common(messages);
  in.add_generation_prompt = add_assistant_opening;
  in.use_jinja = true;
  try {
    return common_chat_templates_apply(templates_->ptr.get(), in).prompt;
  } catch (const std::exception& e) {
    throw InputError("messages",
                     std::string("the model's chat template refused them: ") + e.what());
  }
}

}  // namespace tandem::llama
