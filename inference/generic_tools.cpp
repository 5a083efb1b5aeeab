#include "inference/generic_tools.h"

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace tandem::inference::generic_tools {
namespace {

using nlohmann::json;

json parameters(const ChatTool& tool) {
  if (tool.parameters.empty()) return json{{"type", "object"}};
  return json::parse(tool.parameters);
}

std::string instructions(const ChatOptions& options) {
  std::string text =
      "You can call these tools; each line is one, with the JSON Schema of its "
      "arguments:\n";
  for (const auto& t : options.offered()) {
    text += json{{"name", t.name}, {"description", t.description}, {"parameters", parameters(t)}}
                .dump() +
            "\n";
  }
  text +=
      "To call tools, answer with only this JSON: "
      R"({"tool_calls": [{"name": "<tool name>", "arguments": {<its arguments>}}]})";
  if (options.tool_choice == ToolChoice::automatic) {
    text += R"(. To answer without a tool, answer with only: {"content": "<your answer>"})";
  }
  return text + ".";
}

json call_json(const ToolCall& call) {
  json arguments = json::parse(call.arguments.empty() ? "{}" : call.arguments, nullptr, false);
  if (arguments.is_discarded()) arguments = call.arguments;
  return json{{"name", call.name}, {"arguments", arguments}};
}

}  // namespace

std::vector<ChatMessage> with_tools(const std::vector<ChatMessage>& messages,
                                    const ChatOptions* offer) {
  std::vector<ChatMessage> out;
  out.reserve(messages.size() + 1);
  const std::string tools = offer ? instructions(*offer) : "";
  if (offer && (messages.empty() || messages.front().role != "system")) {
    out.push_back({"system", tools, {}, {}});
  }
  for (const auto& m : messages) {
    ChatMessage copy{m.role, m.content, {}, {}};
    if (offer && out.empty() && m.role == "system") copy.content += "\n\n" + tools;
    if (!m.tool_calls.empty()) {
      json calls = json::array();
      for (const auto& c : m.tool_calls) calls.push_back(call_json(c));
      copy.content = json{{"tool_calls", calls}}.dump();
    }
    if (m.role == "tool") {
      copy.role = "user";
      copy.content = "Result of tool call " + m.tool_call_id + ":\n" + m.content;
    }
    out.push_back(std::move(copy));
  }
  return out;
}

std::string answer_schema(const ChatOptions& options) {
  json alternatives = json::array();
  for (const auto& t : options.offered()) {
    alternatives.push_back(
        {{"type", "object"},
         {"properties", {{"name", {{"const", t.name}}}, {"arguments", parameters(t)}}},
         {"required", {"name", "arguments"}},
         {"additionalProperties", false}});
  }
  json calls = {{"type", "array"}, {"items", {{"anyOf", alternatives}}}, {"minItems", 1}};
  if (!options.parallel_tool_calls) calls["maxItems"] = 1;
  json call_answer = {{"type", "object"},
                      {"properties", {{"tool_calls", calls}}},
                      {"required", {"tool_calls"}},
                      {"additionalProperties", false}};
  if (options.tool_choice != ToolChoice::automatic) return call_answer.dump();
  json content_answer = {{"type", "object"},
                         {"properties", {{"content", {{"type", "string"}}}}},
                         {"required", {"content"}},
                         {"additionalProperties", false}};
  return json{{"anyOf", {call_answer, content_answer}}}.dump();
}

ChatReply parse(const std::string& text, bool partial) {
  ChatReply reply;
  // One JSON object, whole only at its last token: nothing to read before the answer ends
  // (parsing the growing text at every streamed token would be quadratic work for nothing).
  if (partial) return reply;
  const json answer = json::parse(text, nullptr, false);
  if (answer.is_discarded() || !answer.is_object()) {
    reply.content = text;  // cut short (max_tokens): what there is, as text
    return reply;
  }
  if (auto content = answer.find("content"); content != answer.end() && content->is_string()) {
    reply.content = content->get<std::string>();
  }
  if (auto calls = answer.find("tool_calls"); calls != answer.end() && calls->is_array()) {
    for (const auto& c : *calls) {
      if (!c.is_object() || !c.contains("name") || !c["name"].is_string()) continue;
      const json arguments = c.value("arguments", json::object());
      reply.tool_calls.push_back({"", c["name"].get<std::string>(), arguments.dump()});
    }
  }
  return reply;
}

}  // namespace tandem::inference::generic_tools
