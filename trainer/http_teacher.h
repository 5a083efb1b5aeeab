// The real Teacher: TandemLlm scores each label with the OpenAI legacy scoring call,
// POST /v1/completions {"prompt": prompt + " " + label, "echo": true, "logprobs": 0,
// "max_tokens": 0}, and the label's log-probability is the sum over the tokens of " " + label.
#pragma once

#include <string>

#include "trainer/llm_client.h"
#include "trainer/teacher.h"

namespace tandem::trainer {

class HttpTeacher final : public Teacher {
 public:
  explicit HttpTeacher(LlmClient& client) : client_(client) {}

  // One request per label, each retried by the client's policy.
  std::vector<double> score_labels(const std::string& model, const std::string& prompt,
                                   const std::vector<std::string>& labels,
                                   std::stop_token stop) override;

 private:
  LlmClient& client_;
};

// The summed token_logprobs of the tokens covering any byte of " " + label in an echo response
// (choices[0].text, choices[0].logprobs.{tokens, token_logprobs, text_offset}). The label's span
// is counted from the end of the echoed text, so a server that echoes the prompt with a changed
// prefix (a BOS piece, a leading space) still scores the right tokens. Throws Error naming the
// field and the label for anything malformed, a null log-probability among the label's tokens,
// or no token covering the label.
double label_logprob_from_echo(const std::string& response_body, const std::string& label);

}  // namespace tandem::trainer
