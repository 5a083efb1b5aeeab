// A chat request rendered for the model: the prompt through the model's template, the grammar
// its answer must follow (response_format, or tool calls) and the parser that reads the answer
// back. Tools go through the template's own tool-call format when it has one (llama.cpp's
// grammar and parser), else through the generic JSON form (generic_tools.h).
#pragma once

#include <vector>

#include "common/llama/chat_template.h"
#include "inference/completion.h"

namespace tandem::inference {

// InputError naming the request argument when the template refuses the conversation or a schema
// cannot become a grammar.
ChatPrompt render_chat(const llama::ChatTemplate& chat, const std::vector<ChatMessage>& messages,
                       const ChatOptions& options);

}  // namespace tandem::inference
