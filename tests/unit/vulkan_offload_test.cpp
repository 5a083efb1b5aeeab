// Issue #18: the tiny model's layers on ggml's Vulkan backend, loaded from the test's folder as
// the server loads it. CTest points the Vulkan loader at Mesa's lavapipe (software Vulkan, which
// scripts/bootstrap installs) and makes ggml take it (GGML_VK_VISIBLE_DEVICES=0); where no Vulkan
// device exists the tests say so and skip.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/llama/llama_backend.h"
#include "inference/engine.h"
#include "inference/gpu_devices.h"
#include "tests/support/engine_calls.h"

namespace tandem::inference {
namespace {

using testing::greedy;

class VulkanOffload : public ::testing::Test {
 protected:
  void SetUp() override {
    llama::ensure_llama_backend();
    if (gpu_devices().empty()) {
      GTEST_SKIP() << "no Vulkan device: ggml-vulkan beside the test did not load (no Vulkan "
                      "loader) or found no device (install mesa-vulkan-drivers for lavapipe)";
    }
  }

  static EngineOptions layers(int n_gpu_layers) {
    EngineOptions o = testing::engine_options(/*parallel=*/1, /*ctx_size=*/256);
    o.gpu.n_gpu_layers = n_gpu_layers;
    return o;
  }
};

std::vector<std::string> tokens_of(const CompletionResult& r) {
  std::vector<std::string> out;
  for (const auto& p : r.pieces) out.push_back(p.text);
  return out;
}

TEST_F(VulkanOffload, GreedyOnTheGpuEqualsTheCpuTokenForToken) {
  Engine cpu(layers(0));
  Engine gpu(layers(99));
  ASSERT_EQ(cpu.offload().n_gpu_layers, 0);
  ASSERT_GT(gpu.offload().offloadable, 2);
  ASSERT_EQ(gpu.offload().n_gpu_layers, gpu.offload().offloadable) << offload_text(gpu.offload());
  ASSERT_EQ(gpu.offload().devices.size(), 1u);
  EXPECT_EQ(gpu.offload().devices[0].name, "Vulkan0");
  EXPECT_EQ(gpu.offload().layers, std::vector<int>{gpu.offload().offloadable});
  const auto stats = gpu.stats();
  ASSERT_EQ(stats.gpu_layers.size(), 1u);
  EXPECT_EQ(stats.gpu_layers[0].layers, stats.model_layers);

  SamplingParams p = greedy(32);
  p.top_logprobs = 0;
  int compared = 0;
  for (const char* prompt : {"Once upon a time", "The capital of France is", "1, 2, 3, 4,"}) {
    const auto a = cpu.complete(prompt, p);
    const auto b = gpu.complete(prompt, p);
    ASSERT_EQ(a.completion_tokens, 32) << prompt;
    EXPECT_EQ(tokens_of(a), tokens_of(b)) << prompt;
    ASSERT_EQ(a.pieces.size(), b.pieces.size());
    for (std::size_t i = 0; i < a.pieces.size(); ++i) {
      EXPECT_NEAR(a.pieces[i].logprob, b.pieces[i].logprob, 0.05) << prompt << ", token " << i;
    }
    compared += a.completion_tokens;
  }
  EXPECT_EQ(compared, 96);
}

TEST_F(VulkanOffload, AutoOffloadsWhatFitsAndSomeLayersSplitWithTheCpu) {
  Engine automatic(layers(kGpuLayersAuto));
  const OffloadPlan& plan = automatic.offload();
  // The tiny model is far smaller than lavapipe's memory less the headroom: every layer fits.
  EXPECT_EQ(plan.n_gpu_layers, plan.offloadable) << offload_text(plan);
  Engine part(layers(1));  // the output layer only; the repeating layers stay on the CPU
  EXPECT_EQ(part.offload().layers, std::vector<int>{1});
  Engine cpu(layers(0));
  const auto a = cpu.complete("Hello", greedy(16));
  const auto b = part.complete("Hello", greedy(16));
  EXPECT_EQ(a.text, b.text);
}

TEST_F(VulkanOffload, AMissingDeviceMeansTheCpuAndSaysWhy) {
  EngineOptions o = layers(99);
  o.gpu.devices = {"Vulkan9"};
  Engine engine(o);
  EXPECT_EQ(engine.offload().n_gpu_layers, 0);
  EXPECT_NE(engine.offload().note.find("device 'Vulkan9' (devices) not found"), std::string::npos)
      << engine.offload().note;
  EXPECT_FALSE(engine.complete("Hello", greedy(4)).text.empty());
}

}  // namespace
}  // namespace tandem::inference
