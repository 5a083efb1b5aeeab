#include "trainer/distill/teacher_label.h"

#include <cmath>

#include "common/error.h"

namespace tandem::distill {

TeacherChoice choose_teacher_label(const std::vector<double>& label_logprobs) {
  if (label_logprobs.empty()) throw Error("no label log-probabilities to choose from");
  TeacherChoice choice;
  for (std::size_t k = 0; k < label_logprobs.size(); ++k) {
    const double v = label_logprobs[k];
    if (std::isnan(v) || v == INFINITY) {
      throw Error("label " + std::to_string(k) + " has an invalid log-probability (" +
                  std::to_string(v) + ")");
    }
    if (v > label_logprobs[choice.index]) choice.index = k;
  }
  const double max = label_logprobs[choice.index];
  if (max == -INFINITY) throw Error("the model gave every allowed label zero probability");
  double sum = 0;
  for (double v : label_logprobs) sum += std::exp(v - max);
  for (double v : label_logprobs) choice.probabilities.push_back(std::exp(v - max) / sum);
  choice.confidence = choice.probabilities[choice.index];
  return choice;
}

std::string build_prompt(std::string_view prompt_template, std::string_view text,
                         const std::vector<std::string>& labels) {
  std::string joined;
  for (const auto& l : labels) joined += (joined.empty() ? "" : ", ") + l;
  std::string out;
  std::size_t i = 0;
  while (i < prompt_template.size()) {
    if (prompt_template.substr(i, 6) == "{text}") {
      out += text;
      i += 6;
    } else if (prompt_template.substr(i, 8) == "{labels}") {
      out += joined;
      i += 8;
    } else {
      out += prompt_template[i++];
    }
  }
  return out;
}

std::optional<std::string> prompt_template_problem(std::string_view prompt_template) {
  if (prompt_template.find("{text}") == std::string_view::npos) {
    return "must contain {text}, where the item's text goes";
  }
  return std::nullopt;
}

}  // namespace tandem::distill
