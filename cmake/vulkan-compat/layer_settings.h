// Forced into the build of ggml's Vulkan backend by scripts/bootstrap. The pinned ggml-vulkan.cpp
// (ggml_vk_instance_init) names VK_EXT_layer_settings' C++ types, which Vulkan's headers gained
// after Debian 12's 1.3.239; it chains them to vkCreateInstance only for the validation layer
// (GGML_VULKAN_VALIDATE, off). Declared here as the headers declare them, only where missing.
#pragma once
#if defined(__cplusplus) && __has_include(<vulkan/vulkan_core.h>)
#include <vulkan/vulkan_core.h>
#if !defined(VK_EXT_layer_settings)
#include <cstdint>
#include <vector>

namespace vk {

enum class LayerSettingTypeEXT : std::int32_t {
  eBool32 = 0,
  eInt32 = 1,
  eInt64 = 2,
  eUint32 = 3,
  eUint64 = 4,
  eFloat32 = 5,
  eFloat64 = 6,
  eString = 7
};

// VkLayerSettingEXT's layout.
struct LayerSettingEXT {
  const char* pLayerName = nullptr;
  const char* pSettingName = nullptr;
  LayerSettingTypeEXT type = LayerSettingTypeEXT::eBool32;
  std::uint32_t valueCount = 0;
  const void* pValues = nullptr;
};

// VkLayerSettingsCreateInfoEXT's layout, with its structure type, so a loader that knows it
// reads it and one that does not skips it.
struct LayerSettingsCreateInfoEXT {
  explicit LayerSettingsCreateInfoEXT(const std::vector<LayerSettingEXT>& settings)
      : settingCount(static_cast<std::uint32_t>(settings.size())), pSettings(settings.data()) {}
  VkStructureType sType = static_cast<VkStructureType>(1000496000);
  const void* pNext = nullptr;
  std::uint32_t settingCount = 0;
  const LayerSettingEXT* pSettings = nullptr;
};

}  // namespace vk

#endif
#endif
