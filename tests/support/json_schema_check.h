// A small JSON Schema validator for tests: the keywords Tandem's structured-output tests use
// (type, enum, const, properties, required, additionalProperties: false, items, minItems,
// maxItems, maxLength, anyOf). Returns "" when `value` is valid, else where and why not.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace tandem::testing {

inline std::string schema_violation(const nlohmann::json& value, const nlohmann::json& schema,
                                    const std::string& at = "$") {
  using nlohmann::json;
  if (schema.contains("anyOf")) {
    for (const json& alternative : schema["anyOf"]) {
      if (schema_violation(value, alternative, at).empty()) return "";
    }
    return at + ": matches no anyOf alternative";
  }
  if (schema.contains("const") && value != schema["const"]) return at + ": not the const";
  if (schema.contains("enum")) {
    bool found = false;
    for (const json& e : schema["enum"]) found = found || e == value;
    if (!found) return at + ": " + value.dump() + " not in enum";
  }
  const std::string type = schema.value("type", "");
  if (type == "object") {
    if (!value.is_object()) return at + ": not an object";
    const json props = schema.value("properties", json::object());
    for (const json& r : schema.value("required", json::array())) {
      if (!value.contains(r.get<std::string>())) return at + ": missing " + r.dump();
    }
    for (const auto& [key, v] : value.items()) {
      if (props.contains(key)) {
        if (auto e = schema_violation(v, props[key], at + "." + key); !e.empty()) return e;
      } else if (schema.value("additionalProperties", true) == false) {
        return at + ": unexpected key " + key;
      }
    }
  } else if (type == "array") {
    if (!value.is_array()) return at + ": not an array";
    if (value.size() < schema.value("minItems", 0u)) return at + ": too few items";
    if (value.size() > schema.value("maxItems", 1u << 30)) return at + ": too many items";
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (schema.contains("items")) {
        auto e = schema_violation(value[i], schema["items"], at + "[" + std::to_string(i) + "]");
        if (!e.empty()) return e;
      }
    }
  } else if (type == "string") {
    if (!value.is_string()) return at + ": not a string";
    std::size_t chars = 0;  // code points, as JSON Schema counts
    for (unsigned char c : value.get<std::string>()) chars += (c & 0xC0) != 0x80;
    if (chars > schema.value("maxLength", 1u << 30)) {
      return at + ": string too long";
    }
  } else if (type == "integer") {
    if (!value.is_number_integer()) return at + ": not an integer";
  } else if (type == "number") {
    if (!value.is_number()) return at + ": not a number";
  } else if (type == "boolean") {
    if (!value.is_boolean()) return at + ": not a boolean";
  }
  return "";
}

}  // namespace tandem::testing
