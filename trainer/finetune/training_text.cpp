#include "trainer/finetune/training_text.h"

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"

namespace tandem::finetune {

std::vector<std::string> read_training_texts(const std::filesystem::path& dataset) {
  const std::string name = path_utf8(dataset);
  const std::string content = read_file(dataset);
  std::vector<std::string> texts;
  if (dataset.extension() != ".jsonl") {
    if (!content.empty()) texts.push_back(content);
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
      if (!record.is_object() || !record.contains("text") || !record["text"].is_string()) {
        throw InputError(where, "field 'text': expected a string (records are {\"text\": ...})");
      }
      texts.push_back(record["text"].get<std::string>());
    }
  }
  if (texts.empty()) throw InputError(name, "the dataset has no text");
  return texts;
}

}  // namespace tandem::finetune
