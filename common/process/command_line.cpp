#include "common/process/command_line.h"

#include "common/error.h"

namespace tandem {

std::string quote_windows_argument(std::string_view argument) {
  if (!argument.empty() && argument.find_first_of(" \t\n\v\"") == std::string_view::npos) {
    return std::string(argument);
  }
  std::string quoted = "\"";
  std::size_t backslashes = 0;
  for (char c : argument) {
    if (c == '\\') {
      ++backslashes;
      continue;
    }
    if (c == '"') {
      quoted.append(2 * backslashes + 1, '\\');  // each backslash escaped, then the quote
    } else {
      quoted.append(backslashes, '\\');  // not before a quote: backslashes are literal
    }
    backslashes = 0;
    quoted += c;
  }
  quoted.append(2 * backslashes, '\\');  // they precede the closing quote
  quoted += '"';
  return quoted;
}

std::string windows_command_line(const std::vector<std::string>& argv) {
  if (argv.empty() || argv.front().empty()) throw Error("the command names no program");
  for (const std::string& argument : argv) {
    if (argument.find('\0') != std::string::npos) {
      throw Error("the command's argument \"" + argument.substr(0, argument.find('\0')) +
                  "...\" holds a NUL character, which a command line cannot carry");
    }
  }
  const std::string& program = argv.front();
  if (program.find('"') != std::string::npos) {
    throw Error("the program name " + program + " holds a quote, which no Windows file name can");
  }
  std::string line =
      program.find_first_of(" \t") == std::string::npos ? program : "\"" + program + "\"";
  for (std::size_t i = 1; i < argv.size(); ++i) line += " " + quote_windows_argument(argv[i]);
  return line;
}

}  // namespace tandem
