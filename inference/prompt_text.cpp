#include "inference/prompt_text.h"

namespace tandem::inference {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// How many bytes of `rest` the token `text` covers, or npos when it does not start there.
std::size_t covers(std::string_view rest, std::string_view text) {
  if (rest.starts_with(text)) return text.size();
  // The space an SPM tokenizer adds before a word that starts the text or follows a special token.
  if (text.starts_with(' ') && rest.starts_with(text.substr(1))) return text.size() - 1;
  return std::string_view::npos;
}

}  // namespace

std::vector<std::string> prompt_token_texts(std::string_view prompt,
                                            const std::vector<std::string>& rendered) {
  std::vector<std::string> out;
  out.reserve(rendered.size());
  std::size_t at = 0;
  for (const std::string& text : rendered) {
    const std::string_view rest = prompt.substr(at);
    std::size_t n = text.empty() ? 0 : covers(rest, text);
    if (n == std::string_view::npos) {
      // Whitespace a special token stripped next to it: the token takes it along.
      std::size_t skip = 0;
      while (skip < rest.size() && is_space(rest[skip])) ++skip;
      const std::size_t after = skip > 0 ? covers(rest.substr(skip), text) : std::string_view::npos;
      n = after == std::string_view::npos ? 0 : skip + after;  // else not in the prompt (BOS)
    }
    out.emplace_back(rest.substr(0, n));
    at += n;
  }
  if (at < prompt.size() && !out.empty()) out.back() += prompt.substr(at);
  return out;
}

}  // namespace tandem::inference
