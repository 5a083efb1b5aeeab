#include "inference/chat_format.h"

#include <exception>
#include <memory>
#include <string>

#include "common/error.h"
#include "common/llama/chat_messages.h"
#include "inference/generic_tools.h"
#include "inference/grammar.h"

namespace tandem::inference {
namespace {

// The template's own tool-call format, read back with the parser it was rendered with.
class NativeToolParser : public ChatOutputParser {
 public:
  explicit NativeToolParser(const common_chat_params& params) : params_(params) {
    params_.parser.load(params.parser);
  }
  ChatReply parse(const std::string& text, bool partial) const override {
    const common_chat_msg msg = common_chat_parse(text, partial, params_);
    ChatReply reply{msg.content, {}};
    for (const auto& c : msg.tool_calls) reply.tool_calls.push_back({"", c.name, c.arguments});
    return reply;
  }

 private:
  common_chat_parser_params params_;
};

class GenericToolParser : public ChatOutputParser {
 public:
  ChatReply parse(const std::string& text, bool partial) const override {
    return generic_tools::parse(text, partial);
  }
};

common_chat_tool_choice to_common(ToolChoice choice) {
  switch (choice) {
    case ToolChoice::none:
      return COMMON_CHAT_TOOL_CHOICE_NONE;
    case ToolChoice::required:
    case ToolChoice::function:
      return COMMON_CHAT_TOOL_CHOICE_REQUIRED;
    case ToolChoice::automatic:
      break;
  }
  return COMMON_CHAT_TOOL_CHOICE_AUTO;
}

}  // namespace

ChatPrompt render_chat(const llama::ChatTemplate& chat, const std::vector<ChatMessage>& messages,
                       const ChatOptions& options) {
  const bool tools = !options.tools.empty() && options.tool_choice != ToolChoice::none;
  const bool generic = tools && !chat.native_tools();
  common_chat_templates_inputs in;
  // Without a format of its own, a template still needs earlier calls and results spelled out.
  in.messages = llama::to_common(
      chat.native_tools() ? messages
                          : generic_tools::with_tools(messages, generic ? &options : nullptr));
  in.add_generation_prompt = true;
  in.use_jinja = true;
  if (tools && !generic) {
    for (const auto& t : options.offered()) {
      in.tools.push_back({t.name, t.description, t.parameters.empty() ? "{}" : t.parameters});
    }
    in.tool_choice = to_common(options.tool_choice);
    in.parallel_tool_calls = options.parallel_tool_calls;
  }
  common_chat_params out;
  try {
    out = common_chat_templates_apply(chat.templates(), in);
  } catch (const std::exception& e) {
    throw InputError("messages",
                     std::string("the model's chat template refused them: ") + e.what());
  }

  ChatPrompt prompt;
  prompt.prompt = std::move(out.prompt);
  if (generic) {
    prompt.grammar.gbnf = grammar_from_schema(generic_tools::answer_schema(options), "tools");
    prompt.grammar.field = "tools";
    prompt.parser = std::make_shared<GenericToolParser>();
  } else if (tools) {
    prompt.grammar.gbnf = out.grammar;
    prompt.grammar.field = "tools";
    prompt.grammar.prefill = out.generation_prompt;
    prompt.grammar.lazy = out.grammar_lazy;
    for (const auto& t : out.grammar_triggers) {
      if (t.type == COMMON_GRAMMAR_TRIGGER_TYPE_PATTERN) {
        prompt.grammar.trigger_patterns.push_back(t.value);
      } else if (t.type == COMMON_GRAMMAR_TRIGGER_TYPE_PATTERN_FULL) {  // the whole output
        const std::string& v = t.value;
        prompt.grammar.trigger_patterns.push_back((v.starts_with('^') ? "" : "^") + v +
                                                  (v.ends_with('$') ? "" : "$"));
      } else {
        prompt.grammar.trigger_patterns.push_back(regex_escape(t.value));
      }
    }
    prompt.stops = std::move(out.additional_stops);
    prompt.parser = std::make_shared<NativeToolParser>(out);
  }
  if (options.json_schema) {
    if (tools) throw InputError("response_format", "cannot be combined with tools");
    prompt.grammar = Grammar{};
    prompt.grammar.gbnf = grammar_from_schema(*options.json_schema, "response_format");
    prompt.grammar.field = "response_format";
  }
  return prompt;
}

}  // namespace tandem::inference
