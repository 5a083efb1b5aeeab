#include "ctl/cli.h"

#include <functional>

#include <gtest/gtest.h>

namespace tandem::ctl {
namespace {

std::string usage_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.what();
  }
  return "no error";
}

TEST(CtlArgs, TakesFlagsOptionsAndPositionalsInAnyOrder) {
  Args args("logs", {"--follow", "trainer", "--lines", "20"});
  EXPECT_EQ(args.option("--lines"), "20");
  EXPECT_TRUE(args.flag("--follow"));
  EXPECT_FALSE(args.flag("--json"));
  EXPECT_EQ(args.positional(), "trainer");
  EXPECT_EQ(args.positional(), std::nullopt);
  EXPECT_NO_THROW(args.done());
}

TEST(CtlArgs, NamesTheWordNobodyAskedFor) {
  Args unknown("status", {"--jsn"});
  EXPECT_FALSE(unknown.flag("--json"));
  EXPECT_EQ(usage_error([&] { unknown.done(); }), "status: unknown option '--jsn'");
  Args extra("url", {"now"});
  EXPECT_EQ(usage_error([&] { extra.done(); }), "url: unexpected argument 'now'");
}

TEST(CtlArgs, OptionWithoutValueIsAnError) {
  Args args("wait", {"--timeout"});
  EXPECT_EQ(usage_error([&] { args.option("--timeout"); }), "wait: --timeout needs a value");
}

TEST(CtlArgs, SecondsAreWholeAndBounded) {
  EXPECT_EQ(parse_seconds("--timeout", "0"), 0);
  EXPECT_EQ(parse_seconds("--timeout", "86400"), 86400);
  for (const char* bad : {"-1", "86401", "1.5", "ten", "", "5s"}) {
    EXPECT_EQ(usage_error([&] { parse_seconds("--timeout", bad); }),
              std::string("--timeout takes whole seconds from 0 to 86400, got '") + bad + "'")
        << bad;
  }
}

TEST(CtlArgs, TargetsAreLlmTrainerOrAll) {
  EXPECT_EQ(parse_target(std::nullopt), Target::all);
  EXPECT_EQ(parse_target("all"), Target::all);
  EXPECT_EQ(parse_target("llm"), Target::llm);
  EXPECT_EQ(parse_target("trainer"), Target::trainer);
  EXPECT_EQ(usage_error([] { parse_target("server"); }),
            "unknown service 'server': use llm, trainer or all");
}

}  // namespace
}  // namespace tandem::ctl
