// Tandem's chat messages as llama.cpp's common chat library takes them. Include only where that
// library is linked (its chat.h first).
#pragma once

#include <vector>

#include "chat.h"
#include "common/llama/chat_template.h"

namespace tandem::llama {

inline std::vector<common_chat_msg> to_common(const std::vector<ChatMessage>& messages) {
  std::vector<common_chat_msg> out;
  out.reserve(messages.size());
  for (const auto& m : messages) {
    common_chat_msg c;
    c.role = m.role;
    c.content = m.content;
    c.tool_call_id = m.tool_call_id;
    for (const auto& call : m.tool_calls)
      c.tool_calls.push_back({call.name, call.arguments, call.id});
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace tandem::llama
