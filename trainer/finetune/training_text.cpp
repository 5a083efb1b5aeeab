#include "trainer/finetune/training_text.h"

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"

namespace tandem::finetune {

namespace {

std::vector<llama::ChatMessage> read_messages(const nlohmann::json& messages,
                                              const std::string& where) {
  if (!messages.is_array() || messages.empty()) {
    throw InputError(where, "field 'messages': expected a non-empty array of messages");
  }
  std::vector<llama::ChatMessage> out;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const auto& m = messages[i];
    const std::string field = "messages[" + std::to_string(i) + "]";
    for (const char* key : {"role", "content"}) {
      if (!m.is_object() || !m.contains(key) || !m[key].is_string()) {
        throw InputError(where, "field '" + field + "." + key + "': expected a string");
      }
    }
    out.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
  }
  return out;
}

}  // namespace

std::vector<TrainingRecord> read_training_records(const std::filesystem::path& dataset) {
  const std::string name = path_utf8(dataset);
  const std::string content = read_file(dataset);
  std::vector<TrainingRecord> texts;
  if (dataset.extension() != ".jsonl") {
    if (!content.empty()) texts.push_back({content, {}});
  } else {
    std::size_t start = 0;
    for (int line = 1; start < content.size(); ++line) {
      std::size_t end = content.find('\n', start);
      if (end == std::string::npos) end = content.size();
      std::string text = content.substr(start, end - start);
      start = end + 1;
      if (!text.empty() && text.back() == '\r') text.pop_back();
      if (text.find_first_not_of(" \t") == std::string::npos) continue;
      const std::string where = name + ":" + std::to_string(line);
      nlohmann::json record;
      try {
        record = nlohmann::json::parse(text);
      } catch (const nlohmann::json::parse_error& e) {
        throw InputError(where, std::string("not JSON: ") + e.what());
      }
      if (record.is_object() && record.contains("messages")) {
        texts.push_back({{}, read_messages(record["messages"], where)});
        continue;
      }
      if (!record.is_object() || !record.contains("text") || !record["text"].is_string()) {
        throw InputError(where,
                         "field 'text': expected a string (records are {\"text\": ...} or "
                         "{\"messages\": [...]})");
      }
      texts.push_back({record["text"].get<std::string>(), {}});
    }
  }
  if (texts.empty()) throw InputError(name, "the dataset has no text");
  return texts;
}

}  // namespace tandem::finetune
