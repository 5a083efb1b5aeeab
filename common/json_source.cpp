#include "common/json_source.h"

#include <vector>

#include "common/error.h"

namespace tandem {
namespace {

struct Position {
  int line;
  int column;
};

Position position_at(std::string_view text, std::size_t offset, int first_line) {
  Position p{first_line, 1};
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else {
      ++p.column;
    }
  }
  return p;
}

// Walks text that nlohmann already accepted and records the line of every value by pointer.
// Only structure matters here: strings are skipped as units, scalars are skipped to a delimiter.
class LineScanner {
 public:
  LineScanner(std::string_view text, int first_line, std::map<std::string, int>& out)
      : text_(text), line_(first_line), out_(out) {}

  void run() { value(""); }

 private:
  void skip_ws() {
    while (i_ < text_.size()) {
      char c = text_[i_];
      if (c == '\n') ++line_;
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return;
      ++i_;
    }
  }

  std::string string_token() {
    std::string s;
    ++i_;  // opening quote
    while (i_ < text_.size() && text_[i_] != '"') {
      if (text_[i_] == '\\' && i_ + 1 < text_.size()) {
        s += text_[i_ + 1];  // approximate for keys with escapes; enough to build pointers
        i_ += 2;
        continue;
      }
      s += text_[i_++];
    }
    ++i_;  // closing quote
    return s;
  }

  void value(const std::string& pointer) {
    skip_ws();
    if (i_ >= text_.size()) return;
    out_.emplace(pointer, line_);
    char c = text_[i_];
    if (c == '{') {
      ++i_;
      for (;;) {
        skip_ws();
        if (i_ >= text_.size() || text_[i_] == '}') break;
        if (text_[i_] == ',') {
          ++i_;
          continue;
        }
        std::string key = string_token();
        skip_ws();
        ++i_;  // ':'
        value(json_pointer_child(pointer, key));
      }
      ++i_;
    } else if (c == '[') {
      ++i_;
      std::size_t index = 0;
      for (;;) {
        skip_ws();
        if (i_ >= text_.size() || text_[i_] == ']') break;
        if (text_[i_] == ',') {
          ++i_;
          continue;
        }
        value(json_pointer_child(pointer, std::to_string(index++)));
      }
      ++i_;
    } else if (c == '"') {
      string_token();
    } else {
      while (i_ < text_.size() && text_[i_] != ',' && text_[i_] != '}' && text_[i_] != ']' &&
             text_[i_] != ' ' && text_[i_] != '\n' && text_[i_] != '\r' && text_[i_] != '\t') {
        ++i_;
      }
    }
  }

  std::string_view text_;
  std::size_t i_ = 0;
  int line_;
  std::map<std::string, int>& out_;
};

}  // namespace

std::string json_pointer_child(const std::string& parent, std::string_view key) {
  std::string out = parent + "/";
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

JsonSource::JsonSource(std::string origin, std::string_view text, int first_line)
    : origin_(std::move(origin)), first_line_(first_line) {
  // nlohmann stops at a NUL byte and takes what came before as the whole text, so a file with a
  // NUL and anything after it would pass. JSON text never holds a raw NUL: refuse it here.
  if (auto nul = text.find('\0'); nul != std::string_view::npos) {
    Position p = position_at(text, nul, first_line);
    throw InputError(origin_ + ":" + std::to_string(p.line) + ":" + std::to_string(p.column),
                     "invalid JSON: a NUL byte (a binary file, or text saved as UTF-16?)");
  }
  try {
    root_ = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // nlohmann's byte offset points just past the offending character.
    std::size_t offset = e.byte > 0 ? e.byte - 1 : 0;
    Position p = position_at(text, offset, first_line);
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 2: " prefix.
    if (auto colon = what.find(": "); colon != std::string::npos) what = what.substr(colon + 2);
    throw InputError(origin_ + ":" + std::to_string(p.line) + ":" + std::to_string(p.column),
                     "invalid JSON: " + what);
  } catch (const nlohmann::json::out_of_range& e) {
    // A number beyond a double ("1e400"): nlohmann names the token ("... parsing '1e400'") but
    // not where it is, so find it; without this the error named neither file nor line.
    std::string what = e.what();
    if (auto bracket = what.find("] "); bracket != std::string::npos)
      what = what.substr(bracket + 2);
    std::size_t offset = 0;
    if (auto quote = what.find('\''); quote != std::string::npos && what.back() == '\'') {
      auto at = text.find(what.substr(quote + 1, what.size() - quote - 2));
      if (at != std::string_view::npos) offset = at;
    }
    Position p = position_at(text, offset, first_line);
    throw InputError(origin_ + ":" + std::to_string(p.line) + ":" + std::to_string(p.column),
                     "invalid JSON: " + what);
  }
  LineScanner(text, first_line, lines_).run();
}

int JsonSource::line_of(const std::string& pointer) const {
  auto it = lines_.find(pointer);
  return it == lines_.end() ? first_line_ : it->second;
}

std::string JsonSource::where(const std::string& pointer) const {
  return origin_ + ":" + std::to_string(line_of(pointer));
}

}  // namespace tandem
