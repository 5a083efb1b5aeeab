#include "common/llama/llama_backend.h"

#include <mutex>
#include <string>

#include <llama.h>

#include "common/log.h"

namespace tandem::llama {
namespace {

void route_log(ggml_log_level level, const char* text, void*) {
  std::string line(text ? text : "");
  while (!line.empty() && line.back() == '\n') line.pop_back();
  if (line.empty()) return;
  log::Level ours = level == GGML_LOG_LEVEL_ERROR  ? log::Level::error
                    : level == GGML_LOG_LEVEL_WARN ? log::Level::warning
                                                   : log::Level::debug;
  log::write(ours, "llama: " + line);
}

}  // namespace

void ensure_llama_backend() {
  static std::once_flag once;
  std::call_once(once, [] {
    llama_log_set(route_log, nullptr);
    llama_backend_init();
  });
}

int effective_threads(int requested, unsigned cores) {
  int max = cores > 0 ? static_cast<int>(cores) : 1;
  if (requested <= 0 || requested > max) return max;
  return requested;
}

}  // namespace tandem::llama
