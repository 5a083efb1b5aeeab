#include "common/gpu_offload.h"

namespace tandem {

std::optional<int> parse_gpu_layers(const nlohmann::json& value, std::string& error) {
  error = "expected \"auto\" or a number of layers from 0 (CPU only) to " +
          std::to_string(kMaxGpuLayers);
  if (value.is_string()) {
    if (value.get<std::string>() == "auto") return kGpuLayersAuto;
    return std::nullopt;
  }
  if (!value.is_number_integer()) return std::nullopt;
  const auto n = value.get<std::int64_t>();
  if (n < 0 || n > kMaxGpuLayers) return std::nullopt;
  return static_cast<int>(n);
}

std::string gpu_layers_text(int n_gpu_layers) {
  if (n_gpu_layers == kGpuLayersAuto) return "auto";
  if (n_gpu_layers == 0) return "0 (CPU only)";
  return std::to_string(n_gpu_layers);
}

}  // namespace tandem
