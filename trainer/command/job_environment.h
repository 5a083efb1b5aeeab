// What a command job's program finds in its environment: where the LLM server is, in the names
// OpenAI clients and Tandem scripts read, plus the job's own variables.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "trainer/llm_access.h"

namespace tandem::trainer {

inline constexpr const char* kLlmUrlVariable = "TANDEM_LLM_URL";
inline constexpr const char* kOpenAiBaseUrlVariable = "OPENAI_BASE_URL";
inline constexpr const char* kOpenAiKeyVariable = "OPENAI_API_KEY";

struct JobEnvironment {
  std::map<std::string, std::string> variables;
  // Names the job set but the trainer owns (in the job's spelling), for a warning in the log.
  std::vector<std::string> ignored;
};

// TANDEM_LLM_URL = url, OPENAI_BASE_URL = url + "/v1", OPENAI_API_KEY = the key when one is
// configured, plus the job's `env`. The URL variables always come from the trainer: a job value
// would point the program at a stale or foreign server. OPENAI_API_KEY comes from the trainer
// when the server has a key; when it has none, the job may set it (OpenAI's clients refuse to
// start without one, and the server then ignores it) and nothing is set otherwise. Names are
// compared ignoring ASCII case, as Windows does.
JobEnvironment job_environment(const std::map<std::string, std::string>& job_env,
                               const LlmAccess& access);

}  // namespace tandem::trainer
