// `tandem-trainer predict MODEL TEXT [--json]`, the same on every platform: the student's label
// for TEXT, or with --json every label's probability.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace tandem::distill {

// The exit code when the student is not confident enough to answer (below the threshold chosen
// for min_agreement): the caller should ask the LLM. It prints "defer" (--json: "defer": true,
// with the student's label and probabilities all the same).
inline constexpr int kDeferExitCode = 10;

// `words` are the UTF-8 arguments after "predict". Wrong words return `usage(problem)`; a model
// that cannot be used is said on stderr and gives 3.
int predict_command(const std::vector<std::string>& words,
                    const std::function<int(const std::string&)>& usage);

}  // namespace tandem::distill
