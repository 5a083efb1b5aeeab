// Tool calls for a chat template that has no format of its own (ChatML, most older models): the
// tools are described in a system message and the answer is one JSON object, constrained by a
// grammar: {"tool_calls":[{"name":…,"arguments":{…}}]} or, when the model may choose,
// {"content":"…"}. Portable: no llama.cpp here.
#pragma once

#include <string>
#include <vector>

#include "inference/completion.h"

namespace tandem::inference::generic_tools {

// The conversation as a template without tools can render it: earlier tool calls as their JSON
// form, tool results as user turns that say which call they answer, and, when `offer` is set, a
// system message that lists its tools (merged into the first system message).
std::vector<ChatMessage> with_tools(const std::vector<ChatMessage>& messages,
                                    const ChatOptions* offer);

// The JSON Schema (text) of the answer `options` allows; the grammar is made from it.
std::string answer_schema(const ChatOptions& options);

// Reads the whole answer back (a partial one reads as nothing yet); text that is not the JSON
// form (cut short by max_tokens) is content as it stands.
ChatReply parse(const std::string& text, bool partial);

}  // namespace tandem::inference::generic_tools
