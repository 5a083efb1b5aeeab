#include "service/api/chat_answer.h"

namespace tandem::api {

ChatAnswer::ChatAnswer(std::shared_ptr<const inference::ChatOutputParser> parser)
    : parser_(std::move(parser)) {}

Json ChatAnswer::add(std::string_view piece) {
  text_ += piece;
  if (!parser_) {
    reply_.content = text_;
    return {{"content", piece}};
  }
  reply_ = parser_->parse(text_, /*partial=*/true);
  // Content the parser still holds back (a marker that may open a tool call) is sent later;
  // content it took back is never retracted.
  const std::string& content = reply_.content;
  if (content.size() <= sent_.size() || !content.starts_with(sent_)) return Json::object();
  Json delta = {{"content", content.substr(sent_.size())}};
  sent_ = content;
  return delta;
}

Json ChatAnswer::finish() {
  if (!parser_) return Json::object();
  reply_ = parser_->parse(text_, /*partial=*/false);
  Json delta = Json::object();
  if (reply_.content.size() > sent_.size() && reply_.content.starts_with(sent_)) {
    delta["content"] = reply_.content.substr(sent_.size());
  }
  sent_ = reply_.content;
  if (called_tools()) delta["tool_calls"] = tool_calls(/*indexed=*/true);
  return delta;
}

Json ChatAnswer::message(const std::string& text) {
  text_ = text;
  if (parser_) {
    reply_ = parser_->parse(text_, /*partial=*/false);
  } else {
    reply_.content = text_;
  }
  Json message = {{"role", "assistant"}, {"content", reply_.content}, {"refusal", nullptr}};
  if (called_tools()) {
    if (reply_.content.empty()) message["content"] = nullptr;
    message["tool_calls"] = tool_calls(/*indexed=*/false);
  }
  return message;
}

Json ChatAnswer::tool_calls(bool indexed) const {
  Json calls = Json::array();
  for (std::size_t i = 0; i < reply_.tool_calls.size(); ++i) {
    const auto& c = reply_.tool_calls[i];
    Json call = {{"id", new_response_id("call_")},
                 {"type", "function"},
                 {"function", {{"name", c.name}, {"arguments", c.arguments}}}};
    if (indexed) call["index"] = i;  // a stream's delta says which call it adds to
    calls.push_back(std::move(call));
  }
  return calls;
}

}  // namespace tandem::api
