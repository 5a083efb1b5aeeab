// Turning the teacher LLM's answer into a label, and the prompt it is asked. Pure logic: the
// trainer obtains, for each allowed label, the summed token log-probabilities of that label as
// the continuation of the prompt, and passes them here.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::distill {

struct TeacherChoice {
  std::size_t index = 0;  // argmax of the log-probabilities; the first label on a tie
  // The label's probability renormalised over the allowed labels (softmax of the sums), in
  // (0, 1]; 1 / labels when all are equal.
  double confidence = 0;
  std::vector<double> probabilities;  // likewise for every label, in label order
};

// `label_logprobs[k]`: sum of the token log-probabilities of label k; -infinity is allowed (the
// model ruled that label out). Throws Error when the list is empty, holds NaN or +infinity, or
// is all -infinity.
TeacherChoice choose_teacher_label(const std::vector<double>& label_logprobs);

// `prompt_template` with every "{text}" replaced by `text` and every "{labels}" by the labels
// joined with ", ". One left-to-right pass: placeholders inside the substituted text stay as
// written, and nothing else (other braces, quotes) is touched.
std::string build_prompt(std::string_view prompt_template, std::string_view text,
                         const std::vector<std::string>& labels);

// Why a prompt template is unusable (it has no "{text}"), or std::nullopt.
std::optional<std::string> prompt_template_problem(std::string_view prompt_template);

}  // namespace tandem::distill
