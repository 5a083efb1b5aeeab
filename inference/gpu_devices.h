// The GPUs ggml's loaded backends offer (Vulkan, CUDA), as llama.cpp picks them by default:
// discrete ones, or the integrated ones when there is no discrete GPU.
#pragma once

#include <string>
#include <vector>

#include "inference/offload_plan.h"

struct ggml_backend_device;

namespace tandem::inference {

std::vector<GpuDevice> gpu_devices();

// ggml's device named `name` ("Vulkan0"); nullptr when there is none.
ggml_backend_device* find_gpu_device(const std::string& name);

}  // namespace tandem::inference
