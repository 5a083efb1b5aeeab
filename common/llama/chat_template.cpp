#include "common/llama/chat_template.h"

#include <optional>
#include <string>

#include <llama.h>

#include "common/error.h"
#include "common/log.h"

namespace tandem::llama {
namespace {

// The formatted chat, or std::nullopt when llama.cpp does not recognise `tmpl`.
std::optional<std::string> format(const std::string& tmpl, const std::vector<ChatMessage>& messages,
                                  bool add_assistant_opening = true) {
  std::vector<llama_chat_message> chat;
  std::size_t chars = 0;
  for (const auto& m : messages) {
    chat.push_back({m.role.c_str(), m.content.c_str()});
    chars += m.role.size() + m.content.size();
  }
  std::string out(2 * chars + 256, '\0');
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int32_t n =
        llama_chat_apply_template(tmpl.c_str(), chat.data(), chat.size(), add_assistant_opening,
                                  out.data(), static_cast<int32_t>(out.size()));
    if (n < 0) return std::nullopt;
    if (static_cast<std::size_t>(n) <= out.size()) {
      out.resize(static_cast<std::size_t>(n));
      return out;
    }
    out.resize(static_cast<std::size_t>(n));  // too small: llama.cpp said how much it needs
  }
  throw Error("llama_chat_apply_template kept asking for a larger buffer");
}

}  // namespace

ChatTemplate::ChatTemplate(const llama_model* model) : template_(kChatml) {
  const char* own = llama_model_chat_template(model, nullptr);
  if (!own) {
    TLOG(info) << "chat template: the model has none, using ChatML";
    return;
  }
  if (!format(own, {{"user", "probe"}})) {
    TLOG(warning) << "chat template: llama.cpp does not support the model's template, using "
                     "ChatML";
    return;
  }
  template_ = own;
  TLOG(info) << "chat template: the model's own";
}

std::string ChatTemplate::apply(const std::vector<ChatMessage>& messages,
                                bool add_assistant_opening) const {
  if (auto text = format(template_, messages, add_assistant_opening)) return *text;
  throw Error("llama.cpp could not apply the chat template it accepted at load");
}

}  // namespace tandem::llama
