// A Windows command line from an argv, quoted so that CommandLineToArgvW (and the MSVC and
// MinGW C runtimes) give the child exactly these arguments back. Portable so it is unit-tested
// natively; CreateProcessW gets one string, not an array.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tandem {

// One argument after the program: left as is when it needs no quotes; otherwise in quotes, with
// backslashes doubled where they precede a quote (literal or the closing one) and quotes escaped.
std::string quote_windows_argument(std::string_view argument);

// The program (argv[0]) is parsed by other rules: up to the next space, or quoted up to the
// next quote, with no escapes; it is quoted when it holds a space or tab. Throws tandem::Error
// for an empty argv, an empty program, or a program holding a quote (no Windows file name can)
// or a NUL in any argument.
std::string windows_command_line(const std::vector<std::string>& argv);

}  // namespace tandem
