// `tandem-trainer predict MODEL TEXT [--json]`, the same on every platform: the student's label
// for TEXT, or with --json every label's probability.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace tandem::distill {

// `words` are the UTF-8 arguments after "predict". Wrong words return `usage(problem)`; a model
// that cannot be used is said on stderr and gives 3.
int predict_command(const std::vector<std::string>& words,
                    const std::function<int(const std::string&)>& usage);

}  // namespace tandem::distill
