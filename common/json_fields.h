// Typed, range-checked access to the fields of one JSON object, with errors that name the
// file, line and field. Used for configs and job files alike.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/gpu_offload.h"
#include "common/json_source.h"
#include "common/keep_alive.h"

namespace tandem {

// "a string", "an array", ... for messages.
std::string json_type_name(const nlohmann::json& value);
// " (did you mean 'port'?)" for a near miss of one of `known`, else "".
std::string did_you_mean(const std::string& key, const std::set<std::string>& known);

class ObjectReader {
 public:
  // `pointer` names the object inside `source` ("" is the root); it must be a JSON object.
  explicit ObjectReader(const JsonSource& source, std::string pointer = "");

  std::optional<std::string> string(const std::string& key);
  std::optional<std::int64_t> integer(const std::string& key, std::int64_t min, std::int64_t max);
  std::optional<double> number(const std::string& key, double min, double max);
  std::optional<bool> boolean(const std::string& key);
  // An array of strings; the error names the first item that is not one.
  std::optional<std::vector<std::string>> strings(const std::string& key);
  bool has(const std::string& key) const;
  std::optional<KeepAlive> keep_alive(const std::string& key);
  // n_gpu_layers: "auto" (kGpuLayersAuto) or a count of layers.
  std::optional<int> gpu_layers(const std::string& key);
  // llm-server.json's and models.json's `n_gpu_layers`, `main_gpu` and `devices` over `offload`.
  void gpu_offload(GpuOffload& offload);

  // Throws for the first field no getter asked for, suggesting the nearest known name.
  void reject_unknown() const;

  [[noreturn]] void fail(const std::string& key, const std::string& what) const;

 private:
  const nlohmann::json* find(const std::string& key);

  const JsonSource& source_;
  std::string pointer_;
  const nlohmann::json& object_;
  std::set<std::string> known_;
};

}  // namespace tandem
