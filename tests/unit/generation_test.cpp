// The text side of generation, without a model: UTF-8 assembly, stop strings, pieces.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "inference/generation.h"
#include "inference/stop_matcher.h"
#include "inference/utf8.h"

namespace tandem::inference {
namespace {

const std::string kEuro = "\xE2\x82\xAC";
const std::string kReplacement = "\xEF\xBF\xBD";

TEST(Utf8Assembler, HoldsACharacterSplitAcrossPushes) {
  Utf8Assembler a;
  EXPECT_EQ(a.push("a\xE2"), "a");
  EXPECT_TRUE(a.holding());
  EXPECT_EQ(a.push("\x82"), "");
  EXPECT_EQ(a.push("\xAC!"), kEuro + "!");
  EXPECT_FALSE(a.holding());
}

TEST(Utf8Assembler, ReplacesInvalidBytesAndAnIncompleteEnd) {
  Utf8Assembler a;
  EXPECT_EQ(a.push("\x80x"), kReplacement + "x");     // a lone continuation byte
  EXPECT_EQ(a.push("\xE2\x28"), kReplacement + "(");  // a lead byte cut short
  EXPECT_EQ(a.push("\xF0\x9F"), "");
  EXPECT_EQ(a.finish(), kReplacement);
  EXPECT_EQ(to_valid_utf8("ok\xC0\xAF"), "ok" + kReplacement + kReplacement);  // overlong
  EXPECT_EQ(to_valid_utf8("\xED\xA0\x80"),
            kReplacement + kReplacement + kReplacement);  // surrogate
}

std::vector<Piece> pieces(const std::vector<std::string>& texts) {
  std::vector<Piece> out;
  for (const auto& t : texts) out.push_back(Piece{t, -1.0f, {}, 1});
  return out;
}

std::string push_all(StopMatcher& m, const std::vector<std::string>& texts) {
  std::string out;
  for (auto& p : pieces(texts)) {
    for (const auto& q : m.push(p)) out += q.text;
  }
  return out;
}

TEST(StopMatcher, CutsBeforeAStopStringSpanningPieces) {
  StopMatcher m({"END"});
  EXPECT_EQ(push_all(m, {"abc E", "N", "Dxyz"}), "abc ");
  EXPECT_TRUE(m.stopped());
  EXPECT_TRUE(m.push(Piece{"more", 0, {}}).empty());
}

TEST(StopMatcher, HoldsAPossibleStartThenReleasesIt) {
  StopMatcher m({"END"});
  EXPECT_EQ(push_all(m, {"abc E"}), "");  // could be the start of END
  EXPECT_EQ(push_all(m, {"NX"}), "abc ENX");
  EXPECT_EQ(push_all(m, {"EN"}), "");
  std::string rest;
  for (const auto& p : m.flush()) rest += p.text;
  EXPECT_EQ(rest, "EN");
  EXPECT_FALSE(m.stopped());
}

TEST(StopMatcher, TheEarliestOfSeveralStopsWinsAndEmptyStopsAreIgnored) {
  StopMatcher m({"", "zz", "y"});
  EXPECT_EQ(push_all(m, {"abzzy"}), "ab");
  EXPECT_TRUE(m.stopped());
  StopMatcher none({""});
  EXPECT_EQ(push_all(none, {"a", "b"}), "ab");
}

TEST(Generation, JoinsTokensOfOneCharacterIntoOnePiece) {
  std::vector<Piece> streamed;
  PieceCallback cb = [&](const Piece& p) {
    streamed.push_back(p);
    return true;
  };
  SamplingParams params;
  params.top_logprobs = 1;
  Generation g(params, cb);
  EXPECT_EQ(g.add({"\xE2", -1.0f, {{"x", -0.5f}}}), Generation::Outcome::more);
  EXPECT_TRUE(streamed.empty());
  EXPECT_EQ(g.add({"\x82\xAC", -2.0f, {{"y", -0.1f}}}), Generation::Outcome::more);
  ASSERT_EQ(streamed.size(), 1u);
  EXPECT_EQ(streamed[0].text, kEuro);
  EXPECT_EQ(streamed[0].tokens, 2);
  EXPECT_FLOAT_EQ(streamed[0].logprob, -3.0f);
  ASSERT_EQ(streamed[0].top.size(), 1u);
  EXPECT_EQ(streamed[0].top[0].token, "x");  // alternatives to the piece's first token
  EXPECT_EQ(g.finish(FinishReason::length), FinishReason::length);
  EXPECT_EQ(g.result().text, kEuro);
  EXPECT_EQ(g.result().pieces.size(), 1u);
}

TEST(Generation, StopStringEndsItAndNeverReachesTheCaller) {
  std::string streamed;
  PieceCallback cb = [&](const Piece& p) {
    streamed += p.text;
    return true;
  };
  SamplingParams params;
  params.stop = {"<|"};
  Generation g(params, cb);
  EXPECT_EQ(g.add({"hello <"}), Generation::Outcome::more);
  EXPECT_EQ(streamed, "");  // "hello <" is held as a whole piece
  EXPECT_EQ(g.add({"|end"}), Generation::Outcome::stop);
  EXPECT_EQ(g.finish(FinishReason::stop), FinishReason::stop);
  EXPECT_EQ(g.result().text, "hello ");
  EXPECT_EQ(streamed, "hello ");
  EXPECT_TRUE(g.result().pieces.empty());  // no logprobs asked for
}

TEST(Generation, HeldTextIsReleasedAtTheEnd) {
  SamplingParams params;
  params.stop = {"abc"};
  PieceCallback none;
  Generation g(params, none);
  EXPECT_EQ(g.add({"x a"}), Generation::Outcome::more);
  EXPECT_EQ(g.add({"b"}), Generation::Outcome::more);
  EXPECT_EQ(g.add({"\xE2"}), Generation::Outcome::more);
  EXPECT_EQ(g.finish(FinishReason::length), FinishReason::length);
  EXPECT_EQ(g.result().text, "x ab" + kReplacement);
}

TEST(Generation, ARefusedPieceCancels) {
  int calls = 0;
  PieceCallback cb = [&](const Piece&) { return ++calls < 2; };
  Generation g(SamplingParams{}, cb);
  EXPECT_EQ(g.add({"a"}), Generation::Outcome::more);
  EXPECT_EQ(g.add({"b"}), Generation::Outcome::cancelled);
  EXPECT_EQ(g.add({"c"}), Generation::Outcome::cancelled);
  EXPECT_EQ(g.finish(FinishReason::length), FinishReason::cancelled);
  EXPECT_EQ(g.result().text, "ab");
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace tandem::inference
