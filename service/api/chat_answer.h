// A chat answer as the client sees it: the generated text read through the prompt's parser
// (tool calls, or the generic JSON form) into OpenAI's message, or into the deltas of a stream.
// Without a parser the text is the content, piece by piece.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "inference/completion.h"
#include "service/api/openai_json.h"

namespace tandem::api {

class ChatAnswer {
 public:
  explicit ChatAnswer(std::shared_ptr<const inference::ChatOutputParser> parser);

  // The delta a new piece adds ({} when nothing shows yet: a tool call is sent whole at the end).
  Json add(std::string_view piece);
  // The delta of what only the whole answer shows (its tool calls); {} when none.
  Json finish();
  // Non-streamed: the assistant's message for the whole text.
  Json message(const std::string& text);
  bool called_tools() const { return !reply_.tool_calls.empty(); }

 private:
  Json tool_calls(bool indexed) const;

  std::shared_ptr<const inference::ChatOutputParser> parser_;
  std::string text_;
  inference::ChatReply reply_;
  std::string sent_;  // the content streamed so far
};

}  // namespace tandem::api
