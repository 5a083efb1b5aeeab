// The models folder (docs/architecture.md#models-folder): every .gguf in it is a model named by
// its file stem; a split model (name-00001-of-00003.gguf …) is one model named `name`; a
// multimodal projector (mmproj…) is not a model. models.json beside them holds optional
// per-model settings, validated like every config (file, line, field).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/gpu_offload.h"
#include "common/keep_alive.h"

namespace tandem::models {

struct ModelSettings {
  std::optional<int> ctx_size;
  std::optional<int> parallel;
  std::optional<KeepAlive> keep_alive;
  std::optional<int> n_gpu_layers;   // "auto" (kGpuLayersAuto) or a count; none: llm-server.json's
  std::vector<std::string> aliases;  // other names requests may use
};

struct CatalogEntry {
  std::string id;
  std::filesystem::path file;  // the first part of a split model
  std::uint64_t bytes = 0;     // all parts
  std::filesystem::file_time_type modified{};
  std::string problem;  // why it cannot load (a split model's missing part); empty: none
  ModelSettings settings;

  bool same_file(const CatalogEntry& other) const {
    return file == other.file && bytes == other.bytes && modified == other.modified;
  }
};

// models.json: {"<id>": {"ctx_size":…, "parallel":…, "keep_alive":…, "n_gpu_layers":…,
// "aliases":[…]}, …}.
// InputError naming the file, line and field.
std::map<std::string, ModelSettings> parse_models_file(const std::string& origin,
                                                       const std::string& text);

// True while some process still has the file open for writing (a copy in progress).
using StillWritten = std::function<bool(const std::filesystem::path&)>;

struct Catalog {
  std::vector<CatalogEntry> entries;  // by id
  std::vector<std::string> skipped;   // files still being written, to look at again
};

// The folder's models. A missing folder is an empty catalog; an invalid models.json throws
// InputError (the caller keeps the catalog it had).
Catalog scan_models(const std::filesystem::path& folder, const StillWritten& still_written = {});

}  // namespace tandem::models
