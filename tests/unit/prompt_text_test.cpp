// Which prompt bytes each prompt token covers (echo), without a model: the tokenizer's quirks
// are given as rendered token texts.
#include "inference/prompt_text.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tandem::inference {
namespace {

using Texts = std::vector<std::string>;

std::string joined(const Texts& texts) {
  std::string out;
  for (const auto& t : texts) out += t;
  return out;
}

TEST(PromptTokenTexts, TokensThatSpellThePromptAreKept) {
  EXPECT_EQ(prompt_token_texts("Hello, world", {"Hello", ",", " world"}),
            (Texts{"Hello", ",", " world"}));
}

TEST(PromptTokenTexts, TheSpaceAnSpmTokenizerAddsIsDropped) {
  // llama-spm: BOS (added, rendered empty), then "▁Once" for a prompt without a leading space.
  EXPECT_EQ(prompt_token_texts("Once upon", {"", " Once", " upon"}), (Texts{"", "Once", " upon"}));
  // A prompt that does start with a space keeps it.
  EXPECT_EQ(prompt_token_texts(" Once", {"", " Once"}), (Texts{"", " Once"}));
}

TEST(PromptTokenTexts, SpecialTokensKeepTheirMarkersAndTheSpaceAfterThemIsDropped) {
  // "Hi</s> there": the text after a special token gets a space prefix of its own ("▁" alone).
  EXPECT_EQ(prompt_token_texts("Hi</s> there", {"", " Hi", "</s>", " ", " there"}),
            (Texts{"", "Hi", "</s>", " ", "there"}));
  EXPECT_EQ(prompt_token_texts("Hi</s>there", {"", " Hi", "</s>", " there"}),
            (Texts{"", "Hi", "</s>", "there"}));
}

TEST(PromptTokenTexts, WhitespaceStrippedBeforeASpecialTokenGoesWithIt) {
  EXPECT_EQ(prompt_token_texts("a \n<|end|>", {"a", "<|end|>"}), (Texts{"a", " \n<|end|>"}));
}

TEST(PromptTokenTexts, ATokenNotInThePromptCoversNothing) {
  EXPECT_EQ(prompt_token_texts("ab", {"<s>", "a", "b"}), (Texts{"", "a", "b"}));
}

TEST(PromptTokenTexts, UnclaimedBytesGoToTheLastTokenSoTheJoinIsExact) {
  // A tokenizer that normalised the text: the tokens no longer spell it.
  const Texts texts = prompt_token_texts("caf\xC3\xA9 ok  ", {"cafe", " ok"});
  EXPECT_EQ(texts.size(), 2u);
  EXPECT_EQ(joined(texts), "caf\xC3\xA9 ok  ");
  EXPECT_EQ(texts[0], "");
  EXPECT_TRUE(prompt_token_texts("", {}).empty());
  EXPECT_EQ(prompt_token_texts("", {""}), Texts{""});
}

TEST(PromptTokenTexts, ByteTokensOfOneCharacterEachCoverTheirByte) {
  EXPECT_EQ(prompt_token_texts("\xE2\x82\xAC", {"\xE2", "\x82", "\xAC"}),
            (Texts{"\xE2", "\x82", "\xAC"}));
}

}  // namespace
}  // namespace tandem::inference
