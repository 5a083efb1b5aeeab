#include "trainer/command/job_environment.h"

#include <algorithm>
#include <string_view>

namespace tandem::trainer {

namespace {

bool same_name(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

}  // namespace

JobEnvironment job_environment(const std::map<std::string, std::string>& job_env,
                               const LlmAccess& access) {
  const bool trainer_sets_key = !access.api_key.empty();
  JobEnvironment result;
  for (const auto& [name, value] : job_env) {
    const bool owned = same_name(name, kLlmUrlVariable) ||
                       same_name(name, kOpenAiBaseUrlVariable) ||
                       (trainer_sets_key && same_name(name, kOpenAiKeyVariable));
    if (owned) {
      result.ignored.push_back(name);
    } else {
      result.variables[name] = value;
    }
  }
  std::string url = access.url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  result.variables[kLlmUrlVariable] = url;
  result.variables[kOpenAiBaseUrlVariable] = url + "/v1";
  if (trainer_sets_key) result.variables[kOpenAiKeyVariable] = access.api_key;
  return result;
}

}  // namespace tandem::trainer
