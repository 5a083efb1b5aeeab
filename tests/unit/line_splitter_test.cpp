// How a program's output becomes log lines: endings, pieces of over-long lines, the last line.
#include "common/process/line_splitter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tandem {
namespace {

constexpr std::size_t kMax = LineSplitter::kMaxLine;

class LineSplitterTest : public ::testing::Test {
 protected:
  LineSplitter splitter_{[this](std::string_view line) { lines_.emplace_back(line); }};
  std::vector<std::string> lines_;

  // Feeds `text` one byte at a time: every boundary a pipe read could produce.
  void feed_bytewise(const std::string& text) {
    for (char c : text) splitter_.feed(std::string_view(&c, 1));
  }
};

using Lines = std::vector<std::string>;

TEST_F(LineSplitterTest, LfAndCrLfEndLinesAndAreStripped) {
  splitter_.feed("one\ntwo\r\nthree\n");
  EXPECT_EQ(lines_, (Lines{"one", "two", "three"}));
}

TEST_F(LineSplitterTest, ALineArrivesAsSoonAsItsEndingDoes) {
  splitter_.feed("epoch 1 loss 0.5");
  EXPECT_TRUE(lines_.empty());
  splitter_.feed("\nepoch 2");
  EXPECT_EQ(lines_, (Lines{"epoch 1 loss 0.5"}));
}

TEST_F(LineSplitterTest, EndingsSplitAcrossReadsAreRecognised) {
  feed_bytewise("a\r\nb\r\n\r\nc\n");
  EXPECT_EQ(lines_, (Lines{"a", "b", "", "c"}));
}

TEST_F(LineSplitterTest, EmptyLinesEndedByLfAreKept) {
  splitter_.feed("\n\nx\n");
  EXPECT_EQ(lines_, (Lines{"", "", "x"}));
}

TEST_F(LineSplitterTest, ALoneCrEndsALineAndEmptyRedrawsAreDropped) {
  // What tqdm writes: each redraw starts with CR, the bar ends with LF.
  feed_bytewise("\r 10%|#    |\r 50%|###  |\r100%|#####|\nnext\n");
  EXPECT_EQ(lines_, (Lines{" 10%|#    |", " 50%|###  |", "100%|#####|", "next"}));
}

TEST_F(LineSplitterTest, ACrAtTheEndOfAReadWaitsForTheNextByte) {
  splitter_.feed("a\r");
  EXPECT_TRUE(lines_.empty());
  splitter_.feed("\n");
  EXPECT_EQ(lines_, (Lines{"a"}));
}

TEST_F(LineSplitterTest, TheLastLineWithoutEndingIsDeliveredAtTheEnd) {
  splitter_.feed("done\nexit now");
  EXPECT_EQ(lines_, (Lines{"done"}));
  splitter_.finish();
  EXPECT_EQ(lines_, (Lines{"done", "exit now"}));
}

TEST_F(LineSplitterTest, ATrailingCrAtTheEndIsAnEnding) {
  splitter_.feed("last\r");
  splitter_.finish();
  EXPECT_EQ(lines_, (Lines{"last"}));
}

TEST_F(LineSplitterTest, NothingAtTheEndDeliversNothing) {
  splitter_.feed("x\n");
  splitter_.finish();
  EXPECT_EQ(lines_, (Lines{"x"}));
}

TEST_F(LineSplitterTest, ALineOfExactlyTheLimitIsOneLine) {
  const std::string line(kMax, 'a');
  feed_bytewise(line + "\r\n");
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(lines_[0], line);
}

TEST_F(LineSplitterTest, ALongerLineComesInPiecesWithoutWaitingForItsEnd) {
  const std::string line = std::string(kMax, 'a') + std::string(kMax, 'b') + "cc";
  splitter_.feed(line.substr(0, 2 * kMax + 1));
  ASSERT_EQ(lines_.size(), 2u);  // no ending yet: the first two pieces are known full
  EXPECT_EQ(lines_[0], std::string(kMax, 'a'));
  EXPECT_EQ(lines_[1], std::string(kMax, 'b'));
  splitter_.feed(line.substr(2 * kMax + 1) + "\nnext\n");
  EXPECT_EQ(lines_, (Lines{std::string(kMax, 'a'), std::string(kMax, 'b'), "cc", "next"}));
}

TEST_F(LineSplitterTest, PiecesAreCutBetweenUtf8Characters) {
  // "é" is two bytes; the limit falls between them.
  const std::string line = std::string(kMax - 1, 'a') + "\xC3\xA9" + "z";
  splitter_.feed(line + "\n");
  ASSERT_EQ(lines_.size(), 2u);
  EXPECT_EQ(lines_[0], std::string(kMax - 1, 'a'));
  EXPECT_EQ(lines_[1], "\xC3\xA9z");
}

TEST_F(LineSplitterTest, AnOverLongLastLineIsDeliveredInPiecesAtTheEnd) {
  splitter_.feed(std::string(kMax + 5, 'x'));
  splitter_.finish();
  EXPECT_EQ(lines_, (Lines{std::string(kMax, 'x'), std::string(5, 'x')}));
}

}  // namespace
}  // namespace tandem
