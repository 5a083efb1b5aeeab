#include "ctl/cli.h"

#include <algorithm>
#include <charconv>

namespace tandem::ctl {

Args::Args(std::string command, std::vector<std::string> words)
    : command_(std::move(command)), words_(std::move(words)) {}

bool Args::flag(std::string_view name) {
  auto it = std::find(words_.begin(), words_.end(), name);
  if (it == words_.end()) return false;
  words_.erase(it);
  return true;
}

std::optional<std::string> Args::option(std::string_view name) {
  auto it = std::find(words_.begin(), words_.end(), name);
  if (it == words_.end()) return std::nullopt;
  if (it + 1 == words_.end()) {
    throw UsageError(command_ + ": " + std::string(name) + " needs a value");
  }
  std::string value = *(it + 1);
  words_.erase(it, it + 2);
  return value;
}

std::optional<std::string> Args::positional() {
  auto it = std::find_if(words_.begin(), words_.end(),
                         [](const std::string& w) { return !w.starts_with("--"); });
  if (it == words_.end()) return std::nullopt;
  std::string value = *it;
  words_.erase(it);
  return value;
}

void Args::done() const {
  if (words_.empty()) return;
  const std::string& word = words_.front();
  throw UsageError(command_ + ": " +
                   (word.starts_with("--") ? "unknown option '" : "unexpected argument '") + word +
                   "'");
}

long parse_seconds(std::string_view option, const std::string& text, long max) {
  long value = -1;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 0 || value > max) {
    throw UsageError(std::string(option) + " takes whole seconds from 0 to " + std::to_string(max) +
                     ", got '" + text + "'");
  }
  return value;
}

Target parse_target(const std::optional<std::string>& word) {
  if (!word || *word == "all") return Target::all;
  if (*word == "llm") return Target::llm;
  if (*word == "trainer") return Target::trainer;
  throw UsageError("unknown service '" + *word + "': use llm, trainer or all");
}

}  // namespace tandem::ctl
