// A ValueStore for the registry codecs' tests: holds values as a registry key would and records
// every change in order.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/discovery/publication_values.h"
#include "common/status_values.h"

namespace tandem::testing {

class RecordingStore : public discovery::ValueStore {
 public:
  void set_string(const std::string& name, const std::string& value) override {
    log.push_back("set " + name + "=" + value);
    strings[name] = value;
  }
  void set_dword(const std::string& name, std::uint32_t value) override {
    log.push_back("set " + name + "=" + std::to_string(value));
    dwords[name] = value;
  }
  void remove(const std::string& name) override {
    log.push_back("delete " + name);
    strings.erase(name);
    dwords.erase(name);
  }
  std::optional<std::string> get_string(const std::string& name) const override {
    auto it = strings.find(name);
    return it == strings.end() ? std::nullopt : std::optional(it->second);
  }
  std::optional<std::uint32_t> get_dword(const std::string& name) const override {
    auto it = dwords.find(name);
    return it == dwords.end() ? std::nullopt : std::optional(it->second);
  }
  // Writes each value in order, as win32::StatusPublication does.
  void write(const StatusValues& values) {
    for (const auto& [name, value] : values) {
      if (const auto* text = std::get_if<std::string>(&value)) set_string(name, *text);
      if (const auto* number = std::get_if<std::uint32_t>(&value)) set_dword(name, *number);
    }
  }

  std::vector<std::string> log;
  std::map<std::string, std::string> strings;
  std::map<std::string, std::uint32_t> dwords;
};

}  // namespace tandem::testing
