#include "service/api/request_fields.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "service/api/errors.h"

namespace tandem::api {
namespace {

// Integral bounds print as integers ("from 0 to 2"), others as the shortest exact decimal.
std::string format_number(double d) {
  if (std::floor(d) == d && std::fabs(d) < 1e15) return std::to_string(static_cast<long long>(d));
  std::ostringstream out;
  out << d;
  return out.str();
}

[[noreturn]] void throw_invalid_json(std::string_view body, std::size_t offset,
                                     const std::string& what) {
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset && i < body.size(); ++i) {
    if (body[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  throw ApiError(400, "invalid_request_error", "invalid_json",
                 "request body is not valid JSON at line " + std::to_string(line) + ", column " +
                     std::to_string(column) + " (byte " + std::to_string(offset) + "): " + what);
}

}  // namespace

nlohmann::json parse_body(std::string_view body) {
  // nlohmann stops at a NUL byte and takes what came before as the whole body, so
  // `{...}\0garbage` would pass. JSON text never holds a raw NUL: refuse it first.
  if (auto nul = body.find('\0'); nul != std::string_view::npos) {
    throw_invalid_json(body, nul, "a NUL byte");
  }
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error& e) {
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 2: ".
    if (auto colon = what.find(": "); colon != std::string::npos) what = what.substr(colon + 2);
    // nlohmann's byte count points just past the offending character.
    throw_invalid_json(body, e.byte > 0 ? e.byte - 1 : 0, what);
  } catch (const nlohmann::json::out_of_range& e) {
    // A number beyond a double ("1e400") is the client's bad JSON too, not a server fault (500).
    std::string what = e.what();
    if (auto bracket = what.find("] "); bracket != std::string::npos)
      what = what.substr(bracket + 2);
    throw ApiError(400, "invalid_request_error", "invalid_json",
                   "request body is not valid JSON: " + what);
  }
  if (!root.is_object()) {
    throw ApiError(400, "invalid_request_error", "invalid_json",
                   "request body must be a JSON object, got " + json_type_name(root));
  }
  return root;
}

FieldReader::FieldReader(const nlohmann::json& object, std::string prefix)
    : object_(object), prefix_(std::move(prefix)) {}

const nlohmann::json* FieldReader::get(std::string_view key) const {
  if (std::find(read_.begin(), read_.end(), key) == read_.end()) read_.emplace_back(key);
  auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

std::vector<std::string> FieldReader::unread() const {
  std::vector<std::string> out;
  for (const auto& [key, value] : object_.items()) {
    if (!value.is_null() && std::find(read_.begin(), read_.end(), key) == read_.end()) {
      out.push_back(key);
    }
  }
  return out;
}

std::string FieldReader::did_you_mean(const std::string& key) const {
  return tandem::did_you_mean(key, std::set<std::string>(read_.begin(), read_.end()));
}

std::string FieldReader::name(std::string_view key) const {
  if (prefix_.empty()) return std::string(key);
  return prefix_ + "." + std::string(key);
}

void FieldReader::refuse_unknown(const std::string& key) const {
  throw ApiError(400, "invalid_request_error", "unknown_argument",
                 "unrecognized request argument supplied: '" + name(key) + "'" + did_you_mean(key),
                 name(key));
}

void FieldReader::refuse_unread() const {
  if (const auto unknown = unread(); !unknown.empty()) refuse_unknown(unknown.front());
}

void FieldReader::fail(std::string_view key, const std::string& what) const {
  throw invalid_field(name(key), what);
}

std::optional<std::string> FieldReader::string(std::string_view key) const {
  const nlohmann::json* v = get(key);
  if (!v) return std::nullopt;
  if (!v->is_string()) fail(key, "expected a string, got " + json_type_name(*v));
  return v->get<std::string>();
}

std::optional<std::int64_t> FieldReader::integer(std::string_view key, std::int64_t min,
                                                 std::int64_t max) const {
  const nlohmann::json* v = get(key);
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

std::optional<double> FieldReader::number(std::string_view key, double min, double max) const {
  const nlohmann::json* v = get(key);
  if (!v) return std::nullopt;
  const std::string range = "a number from " + format_number(min) + " to " + format_number(max);
  if (!v->is_number()) fail(key, "expected " + range + ", got " + json_type_name(*v));
  double d = v->get<double>();
  if (!std::isfinite(d) || d < min || d > max)
    fail(key, "expected " + range + ", got " + v->dump());
  return d;
}

std::optional<bool> FieldReader::boolean(std::string_view key) const {
  const nlohmann::json* v = get(key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) fail(key, "expected true or false, got " + json_type_name(*v));
  return v->get<bool>();
}

}  // namespace tandem::api
