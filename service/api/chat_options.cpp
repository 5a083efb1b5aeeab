#include "service/api/chat_options.h"

#include <algorithm>
#include <string>

#include "service/api/errors.h"

namespace tandem::api {
namespace {

using nlohmann::json;

const json& object_field(const FieldReader& f, std::string_view key) {
  const json* v = f.get(key);
  if (!v) f.fail(key, "required");
  if (!v->is_object()) f.fail(key, "expected an object, got " + json_type_name(*v));
  return *v;
}

// OpenAI's rule for function names, so a name that works here works there.
void check_function_name(const FieldReader& f, const std::string& name) {
  const bool ok =
      !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
      });
  if (!ok) f.fail("name", "expected 1 to 64 letters, digits, '_' or '-', got '" + name + "'");
}

std::optional<std::string> read_response_format(const FieldReader& f) {
  if (!f.get("response_format")) return std::nullopt;
  const FieldReader r(object_field(f, "response_format"), f.name("response_format"));
  const std::string type = r.string("type").value_or("");
  std::optional<std::string> schema;
  if (type == "json_object") {
    schema = R"({"type":"object"})";
  } else if (type == "json_schema") {
    const FieldReader s(object_field(r, "json_schema"), r.name("json_schema"));
    const std::string name = s.string("name").value_or("");
    if (name.empty()) s.fail("name", "required");
    s.string("description");
    s.boolean("strict");  // the schema is always enforced: strict or not, the output follows it
    const json* body = s.get("schema");
    if (!body) s.fail("schema", "required");
    if (!body->is_object()) s.fail("schema", "expected an object, got " + json_type_name(*body));
    schema = body->dump();
    s.refuse_unread();
  } else if (type != "text") {
    r.fail("type", "expected one of text, json_object, json_schema; got '" + type + "'");
  }
  r.refuse_unread();
  return schema;
}

inference::ChatTool read_tool(const json& tool, const std::string& name) {
  if (!tool.is_object())
    throw invalid_field(name, "expected an object, got " + json_type_name(tool));
  const FieldReader t(tool, name);
  if (t.string("type") != "function") t.fail("type", "only 'function' tools are supported");
  const FieldReader fn(object_field(t, "function"), t.name("function"));
  inference::ChatTool out;
  out.name = fn.string("name").value_or("");
  check_function_name(fn, out.name);
  out.description = fn.string("description").value_or("");
  fn.boolean("strict");  // arguments always follow the schema
  if (const json* p = fn.get("parameters")) {
    if (!p->is_object()) fn.fail("parameters", "expected a JSON Schema object");
    out.parameters = p->dump();
  }
  fn.refuse_unread();
  t.refuse_unread();
  return out;
}

void read_tool_choice(const FieldReader& f, inference::ChatOptions& options) {
  const json* choice = f.get("tool_choice");
  if (!choice) return;
  if (choice->is_string()) {
    const std::string c = choice->get<std::string>();
    if (c == "none") {
      options.tool_choice = inference::ToolChoice::none;
    } else if (c == "required") {
      options.tool_choice = inference::ToolChoice::required;
    } else if (c != "auto") {
      f.fail("tool_choice", "expected none, auto, required or a function; got '" + c + "'");
    }
  } else if (choice->is_object()) {
    const FieldReader c(*choice, f.name("tool_choice"));
    if (c.string("type") != "function") c.fail("type", "expected 'function'");
    const FieldReader fn(object_field(c, "function"), c.name("function"));
    options.function = fn.string("name").value_or("");
    fn.refuse_unread();
    c.refuse_unread();
    const bool known = std::any_of(options.tools.begin(), options.tools.end(),
                                   [&](const auto& t) { return t.name == options.function; });
    if (!known) fn.fail("name", "names no tool of the request: '" + options.function + "'");
    options.tool_choice = inference::ToolChoice::function;
  } else {
    f.fail("tool_choice", "expected a string or an object, got " + json_type_name(*choice));
  }
  if (options.tools.empty() && (options.tool_choice == inference::ToolChoice::required)) {
    f.fail("tool_choice", "'required' needs tools");
  }
}

}  // namespace

inference::ChatOptions read_chat_options(const FieldReader& f) {
  inference::ChatOptions options;
  options.json_schema = read_response_format(f);
  if (const json* tools = f.get("tools")) {
    if (!tools->is_array()) f.fail("tools", "expected an array, got " + json_type_name(*tools));
    for (std::size_t i = 0; i < tools->size(); ++i) {
      options.tools.push_back(
          read_tool((*tools)[i], f.name("tools") + "[" + std::to_string(i) + "]"));
      for (std::size_t j = 0; j + 1 < options.tools.size(); ++j) {
        if (options.tools[j].name == options.tools.back().name) {
          f.fail("tools", "two tools are named '" + options.tools.back().name + "'");
        }
      }
    }
  }
  read_tool_choice(f, options);
  options.parallel_tool_calls = f.boolean("parallel_tool_calls").value_or(true);
  const bool calls = !options.tools.empty() && options.tool_choice != inference::ToolChoice::none;
  if (calls && options.json_schema) {
    f.fail("response_format", "cannot be combined with tools (only {\"type\":\"text\"} can)");
  }
  return options;
}

inference::Grammar read_grammar(const FieldReader& f, const inference::ChatOptions& chat) {
  inference::Grammar grammar;
  auto gbnf = f.string("grammar");
  if (!gbnf) return grammar;
  if (gbnf->empty()) f.fail("grammar", "must not be empty");
  if (chat.json_schema) f.fail("grammar", "cannot be combined with response_format");
  if (!chat.tools.empty() && chat.tool_choice != inference::ToolChoice::none) {
    f.fail("grammar", "cannot be combined with tools");
  }
  grammar.gbnf = std::move(*gbnf);
  grammar.field = "grammar";
  return grammar;
}

std::vector<inference::ToolCall> read_tool_calls(const FieldReader& m) {
  std::vector<inference::ToolCall> out;
  const json* calls = m.get("tool_calls");
  if (!calls) return out;
  if (!calls->is_array()) m.fail("tool_calls", "expected an array, got " + json_type_name(*calls));
  for (std::size_t i = 0; i < calls->size(); ++i) {
    const std::string name = m.name("tool_calls") + "[" + std::to_string(i) + "]";
    const json& call = (*calls)[i];
    if (!call.is_object())
      throw invalid_field(name, "expected an object, got " + json_type_name(call));
    const FieldReader c(call, name);
    inference::ToolCall out_call;
    out_call.id = c.string("id").value_or("");
    if (c.string("type").value_or("function") != "function") c.fail("type", "expected 'function'");
    const FieldReader fn(object_field(c, "function"), c.name("function"));
    out_call.name = fn.string("name").value_or("");
    if (out_call.name.empty()) fn.fail("name", "required");
    out_call.arguments = fn.string("arguments").value_or("{}");
    fn.refuse_unread();
    c.refuse_unread();
    out.push_back(std::move(out_call));
  }
  return out;
}

}  // namespace tandem::api
