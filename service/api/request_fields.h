// Typed access to the fields of a request body, with 400 errors that name the field as the
// client wrote it ("field 'messages[1].content': expected a string or an array of text parts").
// JSON null counts as absent, as OpenAI's API treats it. The reader remembers which fields were
// asked for, so a caller can refuse every other one (unread()).
#pragma once

#include "common/json_fields.h"  // json_type_name

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tandem::api {

// Parses a request body that must be one JSON object. Bad JSON (including invalid UTF-8 in a
// string) is a 400 whose message gives line, column and byte offset.
nlohmann::json parse_body(std::string_view body);

class FieldReader {
 public:
  // `object` must be a JSON object and outlive the reader; `prefix` names it ("" for the body).
  explicit FieldReader(const nlohmann::json& object, std::string prefix = "");

  // The value, or nullptr when absent or null.
  const nlohmann::json* get(std::string_view key) const;

  std::optional<std::string> string(std::string_view key) const;
  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min,
                                      std::int64_t max) const;
  std::optional<double> number(std::string_view key, double min, double max) const;
  std::optional<bool> boolean(std::string_view key) const;

  // The fields present (not null) that no call above asked for, in key order.
  std::vector<std::string> unread() const;
  // " (did you mean 'temperature'?)" when `key` is a near miss of a field asked for, else "".
  std::string did_you_mean(const std::string& key) const;

  // The field's full name for messages: "stop", "messages[1].content".
  std::string name(std::string_view key) const;
  [[noreturn]] void fail(std::string_view key, const std::string& what) const;
  // 400 unknown_argument naming `key`, in OpenAI's words ("unrecognized request argument").
  [[noreturn]] void refuse_unknown(const std::string& key) const;
  // refuse_unknown() for the first field present that nothing asked for.
  void refuse_unread() const;

 private:
  const nlohmann::json& object_;
  std::string prefix_;
  mutable std::vector<std::string> read_;
};

}  // namespace tandem::api
