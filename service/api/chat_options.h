// The chat arguments that shape the answer: response_format (JSON mode and JSON Schema), tools,
// tool_choice, parallel_tool_calls, and llama-server's `grammar` (GBNF, on both endpoints), in
// OpenAI's shapes. Every value is checked here and a bad one is a 400 naming it.
#pragma once

#include <vector>

#include "inference/completion.h"
#include "service/api/request_fields.h"

namespace tandem::api {

// response_format, tools, tool_choice and parallel_tool_calls of a chat request.
inference::ChatOptions read_chat_options(const FieldReader& f);

// llama-server's `grammar`: GBNF the whole output must follow (refused beside response_format
// or tools, which make their own).
inference::Grammar read_grammar(const FieldReader& f, const inference::ChatOptions& chat = {});

// An assistant message's tool_calls: [{"id","type":"function","function":{"name","arguments"}}].
std::vector<inference::ToolCall> read_tool_calls(const FieldReader& m);

}  // namespace tandem::api
