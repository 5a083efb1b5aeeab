// tandem-backend-probe: loads ggml's backends as the services do (from its own folder) and says
// what it got, so backend_load_test can run it from a folder of its choosing.
#include <cstdio>
#include <exception>

#include "common/llama/llama_backend.h"

int main() {
  try {
    tandem::llama::ensure_llama_backend();
    std::printf("variant %s\n", tandem::llama::backend_report()->cpu_variant.c_str());
    return 0;
  } catch (const tandem::llama::BackendsMissing& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 6;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "unexpected: %s\n", e.what());
    return 70;
  }
}
