#include "trainer/jobs/job_fields.h"

#include <algorithm>

#include "common/error.h"

namespace tandem::jobs {
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

std::string kind_of(const nlohmann::json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  if (v.is_object()) return "an object";
  return "a number";
}

}  // namespace

JobFields::JobFields(const JsonSource& source) : source_(source), scalars_(source) {}

const nlohmann::json* JobFields::find(const std::string& key) {
  known_.insert(key);
  auto it = source_.root().find(key);
  return it == source_.root().end() ? nullptr : &*it;
}

std::optional<std::string> JobFields::string(const std::string& key) {
  known_.insert(key);
  return scalars_.string(key);
}

std::optional<std::int64_t> JobFields::integer(const std::string& key, std::int64_t min,
                                               std::int64_t max) {
  known_.insert(key);
  return scalars_.integer(key, min, max);
}

std::optional<double> JobFields::number(const std::string& key, double min, double max) {
  known_.insert(key);
  return scalars_.number(key, min, max);
}

std::optional<std::vector<std::string>> JobFields::string_array(const std::string& key) {
  const nlohmann::json* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_array()) fail(key, "expected an array of strings, got " + kind_of(*v));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v->size(); ++i) {
    const nlohmann::json& item = (*v)[i];
    if (!item.is_string()) fail_element(key, i, "expected a string, got " + kind_of(item));
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::optional<std::map<std::string, std::string>> JobFields::string_map(const std::string& key) {
  const nlohmann::json* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_object()) fail(key, "expected an object of strings, got " + kind_of(*v));
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : v->items()) {
    if (!value.is_string()) {
      throw InputError(
          source_.where(json_pointer_child(json_pointer_child("", key), name)),
          "field '" + key + "." + name + "': expected a string, got " + kind_of(value));
    }
    out.emplace(name, value.get<std::string>());
  }
  return out;
}

void JobFields::fail(const std::string& key, const std::string& what) const {
  scalars_.fail(key, what);
}

void JobFields::fail_element(const std::string& key, std::size_t index,
                             const std::string& what) const {
  std::string pointer = json_pointer_child(json_pointer_child("", key), std::to_string(index));
  throw InputError(source_.where(pointer),
                   "field '" + key + "[" + std::to_string(index) + "]': " + what);
}

void JobFields::reject_unknown() const {
  for (const auto& [key, value] : source_.root().items()) {
    if (known_.count(key)) continue;
    std::string hint;
    std::size_t best = 3;  // suggest only near misses
    for (const auto& k : known_) {
      std::size_t d = edit_distance(key, k);
      if (d < best) {
        best = d;
        hint = " (did you mean '" + k + "'?)";
      }
    }
    fail(key, "unknown field" + hint);
  }
}

}  // namespace tandem::jobs
