#include "common/json_source.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/json_fields.h"

namespace tandem {
namespace {

TEST(JsonSource, RecordsTheLineOfEveryField) {
  JsonSource s("job.json", "{\n  \"a\": 1,\n  \"b\": {\n    \"c\": [10,\n 20]\n  }\n}");
  EXPECT_EQ(s.line_of("/a"), 2);
  EXPECT_EQ(s.line_of("/b"), 3);
  EXPECT_EQ(s.line_of("/b/c"), 4);
  EXPECT_EQ(s.line_of("/b/c/1"), 5);
  EXPECT_EQ(s.where("/b/c/0"), "job.json:4");
}

TEST(JsonSource, SyntaxErrorNamesFileLineAndColumn) {
  try {
    JsonSource s("cfg.json", "{\n  \"port\": 80,\n  \"model\": oops\n}");
    FAIL() << "accepted invalid JSON";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "cfg.json:3:12") << e.what();
    EXPECT_NE(std::string(e.what()).find("invalid JSON"), std::string::npos);
  }
}

TEST(JsonSource, ANumberBeyondADoubleNamesFileAndLine) {
  try {
    JsonSource("trainer.json", "{\n  \"max_retries\": 1e400\n}");
    FAIL() << "accepted 1e400";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "trainer.json:2:18");
    EXPECT_NE(std::string(e.what()).find("1e400"), std::string::npos) << e.what();
  }
}

// Regression (issue #7): nlohmann ends its input at a NUL byte, so a valid object, a NUL and
// anything at all passed as the valid object alone.
TEST(JsonSource, ANulByteIsRefusedWithItsPlace) {
  const std::string text = std::string("{\n  \"port\": 80\n}\0", 17) + "garbage";
  try {
    JsonSource s("llm-server.json", text);
    FAIL() << "accepted a NUL byte";
  } catch (const InputError& e) {
    EXPECT_EQ(e.where(), "llm-server.json:3:2") << e.what();
    EXPECT_NE(std::string(e.what()).find("NUL byte"), std::string::npos) << e.what();
  }
}

TEST(JsonSource, KeysWithSlashesAreEscapedInPointers) {
  JsonSource s("x.json", "{\"a/b\":\n 1}");
  EXPECT_EQ(s.line_of("/a~1b"), 2);
}

TEST(ObjectReader, WrongTypeAndRangeNameTheField) {
  JsonSource s("f.json", "{\n\"n\": \"7\",\n\"m\": 70000\n}");
  ObjectReader r(s);
  try {
    r.integer("n", 0, 10);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "f.json:2: field 'n': expected an integer from 0 to 10, got a string");
  }
  try {
    r.integer("m", 1, 65535);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "f.json:3: field 'm': expected an integer from 1 to 65535, got 70000");
  }
}

TEST(ObjectReader, UnknownFieldSuggestsTheNearestName) {
  JsonSource s("f.json", "{\"prot\": 1}");
  ObjectReader r(s);
  r.integer("port", 1, 2);
  try {
    r.reject_unknown();
    FAIL();
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "f.json:1: field 'prot': unknown field (did you mean 'port'?)");
  }
}

TEST(ObjectReader, RootMustBeAnObject) {
  JsonSource s("f.json", "[1,2]");
  EXPECT_THROW(ObjectReader{s}, InputError);
}

}  // namespace
}  // namespace tandem
