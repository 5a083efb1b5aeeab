// Issue #18: a GPU that fails the load leaves the model on the CPU, answering. CTest runs this
// on lavapipe with GGML_VK_FORCE_MAX_ALLOCATION_SIZE (1 KiB) so small that no weight fits in a
// Vulkan buffer: the load on the GPU fails as it does out of device memory.
#include <gtest/gtest.h>

#include <string>

#include "common/llama/llama_backend.h"
#include "inference/engine.h"
#include "inference/gpu_devices.h"
#include "tests/support/engine_calls.h"

namespace tandem::inference {
namespace {

TEST(VulkanFallback, AGpuThatFailsTheLoadLeavesTheModelOnTheCpu) {
  llama::ensure_llama_backend();
  if (gpu_devices().empty()) {
    GTEST_SKIP() << "no Vulkan device: ggml-vulkan beside the test did not load (no Vulkan "
                    "loader) or found no device (install mesa-vulkan-drivers for lavapipe)";
  }
  EngineOptions o = testing::engine_options(/*parallel=*/1, /*ctx_size=*/256);
  o.gpu.n_gpu_layers = 99;
  Engine engine(o);
  EXPECT_EQ(engine.offload().n_gpu_layers, 0);
  EXPECT_TRUE(engine.offload().devices.empty());
  EXPECT_EQ(engine.offload().note.rfind("the GPU failed: ", 0), 0u) << engine.offload().note;
  EXPECT_EQ(offload_text(engine.offload()).rfind("CPU only (the GPU failed: ", 0), 0u);
  EXPECT_EQ(engine.complete("Hello", testing::greedy(8)).completion_tokens, 8);
}

}  // namespace
}  // namespace tandem::inference
