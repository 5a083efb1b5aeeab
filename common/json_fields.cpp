#include "common/json_fields.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/error.h"

namespace tandem {
namespace {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string json_type_name(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::number_float:
      return "a number with a fraction";
    default:
      return "a number";
  }
}

namespace {

const nlohmann::json& object_at(const JsonSource& source, const std::string& pointer) {
  const nlohmann::json& v = source.root().at(nlohmann::json::json_pointer(pointer));
  if (!v.is_object()) {
    throw InputError(source.where(pointer), "expected a JSON object, got " + json_type_name(v));
  }
  return v;
}

}  // namespace

std::string did_you_mean(const std::string& key, const std::set<std::string>& known) {
  std::string hint;
  std::size_t best = 3;  // suggest only near misses
  for (const auto& k : known) {
    std::size_t d = edit_distance(key, k);
    if (d < best) {
      best = d;
      hint = " (did you mean '" + k + "'?)";
    }
  }
  return hint;
}

ObjectReader::ObjectReader(const JsonSource& source, std::string pointer)
    : source_(source), pointer_(std::move(pointer)), object_(object_at(source_, pointer_)) {}

void ObjectReader::fail(const std::string& key, const std::string& what) const {
  throw InputError(source_.where(json_pointer_child(pointer_, key)),
                   "field '" + key + "': " + what);
}

bool ObjectReader::has(const std::string& key) const {
  return object_.contains(key);
}

const nlohmann::json* ObjectReader::find(const std::string& key) {
  known_.insert(key);
  auto it = object_.find(key);
  return it == object_.end() ? nullptr : &*it;
}

std::optional<KeepAlive> ObjectReader::keep_alive(const std::string& key) {
  const nlohmann::json* v = find(key);
  if (!v) return std::nullopt;
  std::string error;
  auto k = parse_keep_alive(*v, error);
  if (!k) fail(key, error + ", got " + v->dump());
  return k;
}

std::optional<int> ObjectReader::gpu_layers(const std::string& key) {
  const nlohmann::json* v = find(key);
  if (!v) return std::nullopt;
  std::string error;
  auto n = parse_gpu_layers(*v, error);
  if (!n) fail(key, error + ", got " + v->dump());
  return n;
}

void ObjectReader::gpu_offload(GpuOffload& offload) {
  if (auto n = gpu_layers("n_gpu_layers")) offload.n_gpu_layers = *n;
  if (auto g = integer("main_gpu", 0, 63)) offload.main_gpu = static_cast<int>(*g);
  if (auto d = strings("devices")) {
    for (const std::string& name : *d) {
      if (name.empty()) fail("devices", "expected device names like \"Vulkan0\", got \"\"");
    }
    offload.devices = std::move(*d);
  }
}

std::optional<std::string> ObjectReader::string(const std::string& key) {
  const nlohmann::json* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_string()) fail(key, "expected a string, got " + json_type_name(*v));
  return v->get<std::string>();
}

std::optional<std::vector<std::string>> ObjectReader::strings(const std::string& key) {
  const nlohmann::json* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_array()) fail(key, "expected an array of strings, got " + json_type_name(*v));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v->size(); ++i) {
    const nlohmann::json& item = (*v)[i];
    if (!item.is_string()) {
      const std::string element = key + "[" + std::to_string(i) + "]";
      throw InputError(
          source_.where(json_pointer_child(json_pointer_child(pointer_, key), std::to_string(i))),
          "field '" + element + "': expected a string, got " + json_type_name(item));
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::optional<std::int64_t> ObjectReader::integer(const std::string& key, std::int64_t min,
                                                  std::int64_t max) {
  const nlohmann::json* v = find(key);
  if (!v) return std::nullopt;
  const std::string range = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
    fail(key, "expected " + range + ", got " + v->dump());
  }
  if (!v->is_number_integer()) fail(key, "expected " + range + ", got " + json_type_name(*v));
  auto n = v->get<std::int64_t>();
  if (n < min || n > max) fail(key, "expected " + range + ", got " + std::to_string(n));
  return n;
}

std::optional<double> ObjectReader::number(const std::string& key, double min, double max) {
  const nlohmann::json* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_number()) fail(key, "expected a number, got " + json_type_name(*v));
  double d = v->get<double>();
  if (!std::isfinite(d) || d < min || d > max) {
    fail(key, "expected a number from " + nlohmann::json(min).dump() + " to " +
                  nlohmann::json(max).dump() + ", got " + v->dump());
  }
  return d;
}

std::optional<bool> ObjectReader::boolean(const std::string& key) {
  const nlohmann::json* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) fail(key, "expected true or false, got " + json_type_name(*v));
  return v->get<bool>();
}

void ObjectReader::reject_unknown() const {
  for (const auto& [key, value] : object_.items()) {
    if (known_.count(key)) continue;
    fail(key, "unknown field" + did_you_mean(key, known_));
  }
}

}  // namespace tandem
