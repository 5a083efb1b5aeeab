// The distill job's input: a JSONL file, one {"id"?: ..., "text": ..., "label"?: ...} per line.
// Blank lines are skipped; other fields are ignored. Errors name the file, the line and the field.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::distill {

struct DatasetItem {
  std::string id;  // the line's "id" (a string, or an integer written in decimal), else "line-N"
  std::string text;
  std::optional<std::string> gold_label;  // "label"; absent or null means none
  int line = 0;
};

enum class BadLinePolicy {
  strict,   // the first bad line throws InputError
  collect,  // bad lines are skipped and reported in Dataset::errors
};

struct DatasetError {
  int line = 0;
  std::string message;  // "data.jsonl:7: field 'label': ..."
};

struct Dataset {
  std::vector<DatasetItem> items;
  std::vector<DatasetError> errors;  // the first kMaxReportedErrors only
  std::size_t error_count = 0;       // all of them
};

inline constexpr std::size_t kMaxReportedErrors = 1000;

// A gold label must be one of `allowed_labels`.
Dataset parse_dataset(const std::string& origin, std::string_view content,
                      const std::vector<std::string>& allowed_labels, BadLinePolicy policy);
Dataset read_dataset(const std::filesystem::path& file,
                     const std::vector<std::string>& allowed_labels, BadLinePolicy policy);

// Why `bytes` is not valid UTF-8 ("byte 0xff at column 12 cannot start a character"), or
// std::nullopt. Overlong forms, surrogates and code points above U+10FFFF are invalid.
std::optional<std::string> utf8_problem(std::string_view bytes);

}  // namespace tandem::distill
