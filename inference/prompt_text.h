// Which bytes of the prompt each of its tokens covers, so that echoed prompt tokens join back to
// exactly the prompt and text offsets into it stay honest. A token's own text is not always what
// it covers: llama-spm tokenizers put a space before the first word (and after each special
// token) that the prompt does not hold, an added BOS is not in the prompt at all, and special
// tokens may swallow whitespace next to them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tandem::inference {

// `rendered` holds each prompt token's text as the vocabulary spells it (special tokens as their
// markers; "" for a token the tokenizer added, such as BOS). Returns one slice of `prompt` per
// token, in order: the token's text where the prompt holds it, without a leading space the prompt
// lacks, with whitespace the tokenizer dropped before it; "" for a token the prompt does not hold.
// The slices always join to exactly `prompt`: bytes no token claimed go to the last slice.
std::vector<std::string> prompt_token_texts(std::string_view prompt,
                                            const std::vector<std::string>& rendered);

}  // namespace tandem::inference
