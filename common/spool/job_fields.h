// ObjectReader plus what a job file's kinds read (lists, maps, paths), with the same style of
// errors: file, line and field, down to the element ("labels[2]", "env.PATH"). ObjectReader
// has no getter for objects and keeps its list of known keys private, so this reader tracks
// known keys itself and does its own unknown-field check.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/json_fields.h"
#include "common/json_source.h"

namespace tandem::spool {

// Whether parsing checks that the paths a job names exist (the spool and submit do; unit tests
// of the syntax need not create files).
enum class PathCheck { exists, skip };

class JobFields {
 public:
  // The root of `source`, which must be a JSON object.
  explicit JobFields(const JsonSource& source);

  std::optional<std::string> string(const std::string& key);
  std::optional<std::int64_t> integer(const std::string& key, std::int64_t min, std::int64_t max);
  std::optional<double> number(const std::string& key, double min, double max);
  std::optional<std::vector<std::string>> string_array(const std::string& key);
  std::optional<std::map<std::string, std::string>> string_map(const std::string& key);

  // A string the job's `kind` requires: missing or empty is an error.
  std::string required_string(const std::string& key, const std::string& kind);

  enum class PathIs { file, folder };
  // `value` (a path from field `key`, UTF-8) made absolute against `base_dir` and normalised;
  // with PathCheck::exists it must exist and be a file or a folder as `is` says.
  std::filesystem::path path(const std::string& key, const std::string& value,
                             const std::filesystem::path& base_dir, PathIs is, PathCheck check);

  // Throws for the first field no getter asked for, suggesting the nearest known name.
  void reject_unknown() const;

  [[noreturn]] void fail(const std::string& key, const std::string& what) const;
  // For element `index` of the array field `key`: "field 'labels[2]': ..." at that line.
  [[noreturn]] void fail_element(const std::string& key, std::size_t index,
                                 const std::string& what) const;

 private:
  const nlohmann::json* find(const std::string& key);

  const JsonSource& source_;
  ObjectReader scalars_;
  std::set<std::string> known_;
};

// `s` as a JSON string literal, for quoting a value in a message.
std::string json_quoted(const std::string& s);

}  // namespace tandem::spool
