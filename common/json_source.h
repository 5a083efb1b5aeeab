// JSON text that remembers where each field was written, so errors can name file, line and
// field ("llm-server.json:4: field 'port': must be between 1 and 65535").
#pragma once

#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tandem {

class JsonSource {
 public:
  // Parses `text`; a syntax error throws InputError naming `origin`, line and column.
  JsonSource(std::string origin, std::string_view text, int first_line = 1);

  const nlohmann::json& root() const { return root_; }
  const std::string& origin() const { return origin_; }

  // Line where the value at `pointer` ("/jobs/0/name") starts; the document's first line if
  // the pointer was never seen.
  int line_of(const std::string& pointer) const;
  // "file:line" for messages.
  std::string where(const std::string& pointer) const;

 private:
  std::string origin_;
  nlohmann::json root_;
  std::map<std::string, int> lines_;
  int first_line_;
};

// "/a/b" for the child `key` of `parent` ("" is the root), escaped as RFC 6901 says.
std::string json_pointer_child(const std::string& parent, std::string_view key);

}  // namespace tandem
