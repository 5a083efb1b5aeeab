#include "common/spool/job_fields.h"

#include <algorithm>
#include <system_error>

#include "common/error.h"
#include "common/files.h"
#include "common/json_fields.h"

namespace tandem::spool {
namespace fs = std::filesystem;

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
  known_.insert(key);
  return scalars_.strings(key);
}

std::optional<std::map<std::string, std::string>> JobFields::string_map(const std::string& key) {
  const nlohmann::json* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_object()) fail(key, "expected an object of strings, got " + json_type_name(*v));
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : v->items()) {
    if (!value.is_string()) {
      throw InputError(
          source_.where(json_pointer_child(json_pointer_child("", key), name)),
          "field '" + key + "." + name + "': expected a string, got " + json_type_name(value));
    }
    out.emplace(name, value.get<std::string>());
  }
  return out;
}

std::string JobFields::required_string(const std::string& key, const std::string& kind) {
  auto value = string(key);
  if (!value) fail(key, "missing (required for a " + kind + " job)");
  if (value->empty()) fail(key, "must not be empty");
  return *value;
}

fs::path JobFields::path(const std::string& key, const std::string& value, const fs::path& base_dir,
                         PathIs is, PathCheck check) {
  fs::path p = path_from_utf8(value);
  p = p.is_absolute() ? p.lexically_normal() : (base_dir / p).lexically_normal();
  if (check == PathCheck::skip) return p;
  std::error_code ec;
  auto status = fs::status(p, ec);
  if (!fs::exists(status)) fail(key, json_quoted(path_utf8(p)) + " does not exist");
  if (is == PathIs::folder && !fs::is_directory(status)) {
    fail(key, json_quoted(path_utf8(p)) + " is not a folder");
  }
  if (is == PathIs::file && !fs::is_regular_file(status)) {
    fail(key, json_quoted(path_utf8(p)) + " is not a file");
  }
  return p;
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
    fail(key, "unknown field" + did_you_mean(key, known_));
  }
}

std::string json_quoted(const std::string& s) {
  return nlohmann::json(s).dump();
}

}  // namespace tandem::spool
