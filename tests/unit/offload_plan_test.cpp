// n_gpu_layers, main_gpu and devices against the devices found (inference/offload_plan), and what
// stays in RAM (inference/memory_estimate): pure, so tested without a GPU.
#include "inference/offload_plan.h"

#include <gtest/gtest.h>

#include "inference/memory_estimate.h"
#include "inference/tiny_model.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tiny_model.h"

namespace tandem::inference {
namespace {

constexpr std::uint64_t kMiB = 1ull << 20;
constexpr std::uint64_t kGiB = 1ull << 30;

// `n` repeating layers of 100 MiB and an output layer of 50 MiB; 1 GiB of weights, no KV cache.
MemoryEstimate model(int n) {
  MemoryEstimate m;
  m.weights = kGiB;
  m.compute = 64 * kMiB;
  m.layers.assign(static_cast<std::size_t>(n), {100 * kMiB, true});
  m.layers.push_back({50 * kMiB, true});
  return m;
}

GpuDevice gpu(const std::string& name, std::uint64_t free, std::uint64_t total = 8 * kGiB) {
  return {name, name + " card", free, total};
}

GpuOffload wanted(int layers) {
  GpuOffload w;
  w.n_gpu_layers = layers;
  return w;
}

TEST(OffloadPlan, ZeroLayersIsCpuOnlyWhateverTheDevices) {
  const auto plan = plan_offload(wanted(0), model(8), {gpu("Vulkan0", 8 * kGiB)});
  EXPECT_EQ(plan.n_gpu_layers, 0);
  EXPECT_TRUE(plan.devices.empty());
  EXPECT_EQ(plan.offloadable, 9);
  EXPECT_EQ(offload_text(plan), "CPU only");
}

TEST(OffloadPlan, NoGpuMeansCpuAndSaysSo) {
  const auto plan = plan_offload(wanted(kGpuLayersAuto), model(8), {});
  EXPECT_EQ(plan.n_gpu_layers, 0);
  EXPECT_EQ(offload_text(plan), "CPU only (no GPU found)");
}

TEST(OffloadPlan, AutoTakesEveryLayerThatFits) {
  // 8 GiB free of 8: the headroom is 819 MiB, the compute 64 MiB; all 850 MiB of layers fit.
  auto plan = plan_offload(wanted(kGpuLayersAuto), model(8), {gpu("Vulkan0", 8 * kGiB)});
  EXPECT_EQ(plan.n_gpu_layers, 9);
  EXPECT_EQ(plan.layers, std::vector<int>{9});
  EXPECT_TRUE(plan.note.empty()) << plan.note;
  EXPECT_EQ(offload_text(plan), "Vulkan0 (Vulkan0 card) 9 of 9 layers");
  // 1 GiB free of 2: headroom 512 MiB, compute 64 MiB, 448 MiB left: the output layer and 3.
  plan = plan_offload(wanted(kGpuLayersAuto), model(8), {gpu("Vulkan0", kGiB, 2 * kGiB)});
  EXPECT_EQ(plan.n_gpu_layers, 4);
  EXPECT_EQ(plan.note, "4 of 9 layers fit in the free memory of Vulkan0");
  // Less free than the headroom: nothing.
  plan = plan_offload(wanted(kGpuLayersAuto), model(8), {gpu("Vulkan0", 300 * kMiB, 2 * kGiB)});
  EXPECT_EQ(plan.n_gpu_layers, 0);
  EXPECT_TRUE(plan.devices.empty());
  EXPECT_EQ(offload_text(plan), "CPU only (0 of 9 layers fit in the free memory of Vulkan0)");
}

TEST(OffloadPlan, ACountIsTakenAsGivenUpToTheModelsLayers) {
  auto plan = plan_offload(wanted(3), model(8), {gpu("Vulkan0", 100 * kMiB)});
  EXPECT_EQ(plan.n_gpu_layers, 3);  // asked for: llama.cpp's load says if it does not fit
  plan = plan_offload(wanted(99), model(8), {gpu("Vulkan0", 8 * kGiB)});
  EXPECT_EQ(plan.n_gpu_layers, 9);
  EXPECT_EQ(plan.layers, std::vector<int>{9});
}

TEST(OffloadPlan, LayersAreSplitByFreeMemoryAsLlamaCppSplitsThem) {
  const auto plan =
      plan_offload(wanted(99), model(8), {gpu("Vulkan0", 6 * kGiB), gpu("Vulkan1", 2 * kGiB)});
  ASSERT_EQ(plan.devices.size(), 2u);
  EXPECT_EQ(plan.layers, (std::vector<int>{7, 2}));
  EXPECT_EQ(plan.split, (std::vector<float>{6.0f * kGiB, 2.0f * kGiB}));
  EXPECT_EQ(offload_text(plan),
            "Vulkan0 (Vulkan0 card) 7 of 9 layers, Vulkan1 (Vulkan1 card) 2 of 9 layers");
  // llama.cpp's rule: the layers from the first offloaded one, by the cumulative split.
  EXPECT_EQ(layers_per_device(33, 33, {1, 1}), (std::vector<int>{17, 16}));
  EXPECT_EQ(layers_per_device(33, 10, {1, 3}), (std::vector<int>{3, 7}));
  EXPECT_EQ(layers_per_device(33, 0, {1, 3}), (std::vector<int>{0, 0}));
}

TEST(OffloadPlan, DevicesAndMainGpuChooseTheDevices) {
  const std::vector<GpuDevice> found = {gpu("Vulkan0", 2 * kGiB), gpu("Vulkan1", 6 * kGiB)};
  GpuOffload w = wanted(99);
  w.devices = {"Vulkan1"};
  auto plan = plan_offload(w, model(8), found);
  ASSERT_EQ(plan.devices.size(), 1u);
  EXPECT_EQ(plan.devices[0].name, "Vulkan1");
  w.devices = {};
  w.main_gpu = 1;
  plan = plan_offload(w, model(8), found);
  ASSERT_EQ(plan.devices.size(), 1u);
  EXPECT_EQ(plan.devices[0].name, "Vulkan1");
  EXPECT_EQ(plan.layers, std::vector<int>{9});
  // A device this machine lacks, or a main_gpu past the devices: CPU, saying why.
  w.main_gpu.reset();
  w.devices = {"Vulkan7"};
  plan = plan_offload(w, model(8), found);
  EXPECT_EQ(plan.n_gpu_layers, 0);
  EXPECT_EQ(plan.note, "device 'Vulkan7' (devices) not found; this machine has: Vulkan0, Vulkan1");
  w.devices = {"Vulkan0"};
  w.main_gpu = 1;
  plan = plan_offload(w, model(8), found);
  EXPECT_EQ(plan.n_gpu_layers, 0);
  EXPECT_EQ(plan.note, "main_gpu 1 is not among the 1 devices in use (Vulkan0)");
}

TEST(MemoryEstimate, WhatStaysInRamLeavesOutTheOffloadedLayers) {
  const MemoryEstimate m = model(8);
  EXPECT_EQ(m.on_cpu(0), m.total());
  EXPECT_EQ(m.offloaded(1), 50 * kMiB);
  EXPECT_EQ(m.on_cpu(3), m.total() - 250 * kMiB);
  EXPECT_EQ(m.on_cpu(99), m.total() - 850 * kMiB);
  MemoryEstimate tied = m;
  tied.layers.back().leaves_cpu = false;  // tied embeddings: a copy goes to the GPU
  EXPECT_EQ(tied.on_cpu(1), tied.total());
  EXPECT_EQ(tied.offloaded(1), 50 * kMiB);
}

TEST(MemoryEstimate, CountsTheTinyModelsLayersFromItsHeader) {
  const auto& file = testing::tiny_model_path();
  const auto m = estimate_memory(file, std::filesystem::file_size(file), 256, 2);
  const TinyModelSpec spec;
  ASSERT_EQ(m.layers.size(), spec.n_layer + 1);
  EXPECT_GT(m.layers[0].bytes, m.kv_cache / spec.n_layer);  // weights and its KV share
  EXPECT_EQ(m.layers[0].bytes, m.layers[1].bytes);
  EXPECT_GT(m.offloaded(3), 0u);
  EXPECT_LT(m.on_cpu(3), m.total());
}

}  // namespace
}  // namespace tandem::inference
