// Windows command lines from argv: what CommandLineToArgvW would give back (rules as documented
// by Microsoft, "Parsing C++ command-line arguments"; checked against the real function in
// tests/win/child_process_test.cpp).
#include "common/process/command_line.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace tandem {
namespace {

using Args = std::vector<std::string>;

TEST(QuoteWindowsArgument, PlainArgumentsStayAsTheyAre) {
  EXPECT_EQ(quote_windows_argument("train.py"), "train.py");
  EXPECT_EQ(quote_windows_argument("C:\\data\\x.jsonl"), "C:\\data\\x.jsonl");
  EXPECT_EQ(quote_windows_argument("a\\\\b"), "a\\\\b");  // backslashes not before a quote
}

TEST(QuoteWindowsArgument, EmptyAndSpacedArgumentsAreQuoted) {
  EXPECT_EQ(quote_windows_argument(""), "\"\"");
  EXPECT_EQ(quote_windows_argument("two words"), "\"two words\"");
  EXPECT_EQ(quote_windows_argument("tab\there"), "\"tab\there\"");
}

TEST(QuoteWindowsArgument, QuotesAreEscaped) {
  EXPECT_EQ(quote_windows_argument("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(quote_windows_argument("\""), "\"\\\"\"");
}

TEST(QuoteWindowsArgument, BackslashesBeforeAQuoteAreDoubled) {
  // a\"b  ->  "a\\\"b"
  EXPECT_EQ(quote_windows_argument("a\\\"b"), "\"a\\\\\\\"b\"");
  // a trailing backslash would escape the closing quote: C:\My Dir\  ->  "C:\My Dir\\"
  EXPECT_EQ(quote_windows_argument("C:\\My Dir\\"), "\"C:\\My Dir\\\\\"");
}

TEST(QuoteWindowsArgument, BackslashesInsideQuotedTextStaySingle) {
  EXPECT_EQ(quote_windows_argument("C:\\My Dir\\file"), "\"C:\\My Dir\\file\"");
}

TEST(QuoteWindowsArgument, Utf8PassesThrough) {
  EXPECT_EQ(quote_windows_argument("d\xC3\xA9j\xC3\xA0 vu"), "\"d\xC3\xA9j\xC3\xA0 vu\"");
}

TEST(WindowsCommandLine, JoinsTheProgramAndQuotedArguments) {
  EXPECT_EQ(windows_command_line(Args{"python", "train.py", "--out", "C:\\My Models\\"}),
            "python train.py --out \"C:\\My Models\\\\\"");
}

TEST(WindowsCommandLine, TheProgramIsQuotedWithoutEscapes) {
  // argv[0] has no escapes: a trailing backslash stays single.
  EXPECT_EQ(windows_command_line(Args{"C:\\Program Files\\Py\\python.exe", "-u"}),
            "\"C:\\Program Files\\Py\\python.exe\" -u");
  EXPECT_EQ(windows_command_line(Args{"C:\\tools\\run.exe"}), "C:\\tools\\run.exe");
}

TEST(WindowsCommandLine, RefusesWhatNoCommandLineCanCarry) {
  EXPECT_THROW(windows_command_line(Args{}), Error);
  EXPECT_THROW(windows_command_line(Args{""}), Error);
  try {
    windows_command_line(Args{"bad\"name.exe"});
    FAIL() << "a quote in the program was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad\"name.exe"), std::string::npos) << e.what();
  }
  EXPECT_THROW(windows_command_line(Args{"python", std::string("a\0b", 3)}), Error);
}

}  // namespace
}  // namespace tandem
