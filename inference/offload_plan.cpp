#include "inference/offload_plan.h"

#include <algorithm>

namespace tandem::inference {
namespace {

std::string names(const std::vector<GpuDevice>& devices) {
  if (devices.empty()) return "none";
  std::string out;
  for (const auto& d : devices) out += (out.empty() ? "" : ", ") + d.name;
  return out;
}

// The last layers, from the output layer down, whose bytes fit in `budget`.
int layers_that_fit(const MemoryEstimate& need, std::uint64_t budget) {
  int n = 0;
  std::uint64_t used = 0;
  for (auto it = need.layers.rbegin(); it != need.layers.rend(); ++it) {
    if (used + it->bytes > budget) break;
    used += it->bytes;
    ++n;
  }
  return n;
}

}  // namespace

std::uint64_t auto_headroom(const GpuDevice& device) {
  return std::max<std::uint64_t>(512ull << 20, device.total / 10);
}

std::vector<int> layers_per_device(int offloadable, int n_gpu_layers,
                                   const std::vector<float>& split) {
  std::vector<int> out(split.size(), 0);
  if (split.empty() || offloadable <= 0) return out;
  std::vector<float> bounds(split.size());
  float sum = 0;
  for (std::size_t i = 0; i < split.size(); ++i) bounds[i] = sum += split[i];
  for (auto& b : bounds) b /= sum;
  const int n_layer_all = offloadable - 1;
  const int start = std::max(n_layer_all + 1 - n_gpu_layers, 0);
  const int active = std::min(n_gpu_layers, n_layer_all + 1);
  for (int il = start; il <= n_layer_all && il - start < active; ++il) {
    const auto at = std::upper_bound(bounds.begin(), bounds.end(),
                                     static_cast<float>(il - start) / static_cast<float>(active));
    ++out[static_cast<std::size_t>(std::min<std::ptrdiff_t>(
        at - bounds.begin(), static_cast<std::ptrdiff_t>(out.size()) - 1))];
  }
  return out;
}

OffloadPlan plan_offload(const GpuOffload& wanted, const MemoryEstimate& need,
                         const std::vector<GpuDevice>& found) {
  OffloadPlan plan;
  plan.offloadable = static_cast<int>(need.layers.size());
  if (wanted.n_gpu_layers == 0) return plan;
  std::vector<GpuDevice> use;
  if (wanted.devices.empty()) {
    use = found;
  } else {
    for (const auto& name : wanted.devices) {
      auto d = std::find_if(found.begin(), found.end(),
                            [&](const GpuDevice& g) { return g.name == name; });
      if (d == found.end()) {
        plan.note = "device '" + name + "' (devices) not found; this machine has: " + names(found);
        return plan;
      }
      use.push_back(*d);
    }
  }
  if (use.empty()) {
    plan.note = "no GPU found";
    return plan;
  }
  if (wanted.main_gpu) {
    if (*wanted.main_gpu >= static_cast<int>(use.size())) {
      plan.note = "main_gpu " + std::to_string(*wanted.main_gpu) + " is not among the " +
                  std::to_string(use.size()) + " devices in use (" + names(use) + ")";
      return plan;
    }
    use = {use[static_cast<std::size_t>(*wanted.main_gpu)]};
  }
  int n = std::min(wanted.n_gpu_layers, plan.offloadable);
  if (wanted.n_gpu_layers == kGpuLayersAuto) {
    std::uint64_t budget = 0;
    for (const auto& d : use) budget += d.free - std::min(d.free, auto_headroom(d));
    // The compute buffers go to the devices too.
    budget -= std::min(budget, need.compute);
    n = layers_that_fit(need, budget);
    if (n < plan.offloadable) {
      plan.note = std::to_string(n) + " of " + std::to_string(plan.offloadable) +
                  " layers fit in the free memory of " + names(use);
    }
  }
  if (n <= 0) return plan;
  plan.n_gpu_layers = n;
  plan.devices = std::move(use);
  for (const auto& d : plan.devices) {
    plan.split.push_back(static_cast<float>(std::max<std::uint64_t>(d.free, 1)));
  }
  plan.layers = layers_per_device(plan.offloadable, n, plan.split);
  return plan;
}

std::string offload_text(const OffloadPlan& plan) {
  if (plan.n_gpu_layers == 0) {
    return "CPU only" + (plan.note.empty() ? std::string() : " (" + plan.note + ")");
  }
  std::string out;
  for (std::size_t i = 0; i < plan.devices.size(); ++i) {
    out += (out.empty() ? "" : ", ") + plan.devices[i].name + " (" + plan.devices[i].description +
           ") " + std::to_string(plan.layers[i]) + " of " + std::to_string(plan.offloadable) +
           " layers";
  }
  return out + (plan.note.empty() ? "" : "; " + plan.note);
}

}  // namespace tandem::inference
