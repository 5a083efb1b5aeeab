// tandemctl's command-line words and exit codes. Portable, so its error messages are tested
// natively; every mistake becomes one UsageError line that names the word at fault.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::ctl {

// Exit codes (README "tandemctl"): scripts branch on these.
inline constexpr int kOk = 0;
inline constexpr int kNotReady = 1;  // not ready, timed out, job failed
inline constexpr int kUsage = 2;     // bad arguments: nothing was changed
inline constexpr int kFailed = 3;    // the action failed (message says which call and why)
inline constexpr int kDenied = 4;    // needs an elevated (administrator) prompt

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The words after the command name, taken as they are understood; done() rejects the rest.
class Args {
 public:
  Args(std::string command, std::vector<std::string> words);

  const std::string& command() const { return command_; }
  // True (and consumed) when --name is present.
  bool flag(std::string_view name);
  // The value after --name; UsageError when --name is last.
  std::optional<std::string> option(std::string_view name);
  // The next word that is not an option. Take every option() first: until then an option's
  // value is a word like any other.
  std::optional<std::string> positional();
  // UsageError naming the first word nobody asked for.
  void done() const;

 private:
  std::string command_;
  std::vector<std::string> words_;
};

// Whole seconds in [0, max]; UsageError naming the option and the text otherwise.
long parse_seconds(std::string_view option, const std::string& text, long max = 86400);

// Which services a control command acts on: `llm`, `trainer` or `all` (the default).
enum class Target { llm, trainer, all };
Target parse_target(const std::optional<std::string>& word);

}  // namespace tandem::ctl
