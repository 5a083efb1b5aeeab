#include "trainer/distill/dataset.h"

#include <map>

#include "common/error.h"
#include "common/files.h"
#include "common/json_fields.h"
#include "common/json_source.h"

namespace tandem::distill {
namespace {

std::string join(const std::vector<std::string>& labels) {
  std::string out;
  for (const auto& l : labels) out += (out.empty() ? "'" : ", '") + l + "'";
  return out;
}

bool blank(std::string_view s) {
  return s.find_first_not_of(" \t\r") == std::string_view::npos;
}

class LineParser {
 public:
  LineParser(const std::string& origin, const std::vector<std::string>& allowed)
      : origin_(origin), allowed_(allowed) {}

  // Throws InputError naming origin:line (and the field) for a bad line.
  DatasetItem parse(std::string_view line, int number) {
    const std::string where = origin_ + ":" + std::to_string(number);
    if (auto problem = utf8_problem(line)) throw InputError(where, "not valid UTF-8: " + *problem);
    JsonSource source(origin_, line, number);
    ObjectReader reader(source);
    const nlohmann::json& object = source.root();

    DatasetItem item;
    item.line = number;
    item.id = id_of(reader, object, number);
    auto text = reader.string("text");
    if (!text) reader.fail("text", "missing (every line needs the text to label)");
    if (blank(*text)) reader.fail("text", "must not be empty");
    item.text = std::move(*text);
    if (object.contains("label") && !object["label"].is_null()) {
      item.gold_label = reader.string("label");
      bool known = false;
      for (const auto& l : allowed_) known = known || l == *item.gold_label;
      if (!known) {
        reader.fail("label", "'" + *item.gold_label + "' is not one of the job's labels (" +
                                 join(allowed_) + ")");
      }
    }
    if (auto [it, fresh] = seen_.emplace(item.id, number); !fresh) {
      const std::string given = object.contains("id") ? "" : " (given to a line without an id)";
      reader.fail("id", "duplicate id '" + item.id + "'" + given + ", also used on line " +
                            std::to_string(it->second));
    }
    return item;
  }

 private:
  static std::string id_of(ObjectReader& reader, const nlohmann::json& object, int number) {
    if (!object.contains("id")) return "line-" + std::to_string(number);
    const nlohmann::json& id = object["id"];
    if (id.is_number_integer()) return id.dump();
    if (!id.is_string()) reader.fail("id", "expected a string or an integer");
    auto text = id.get<std::string>();
    if (text.empty()) reader.fail("id", "must not be empty");
    return text;
  }

  const std::string& origin_;
  const std::vector<std::string>& allowed_;
  std::map<std::string, int> seen_;
};

}  // namespace

Dataset parse_dataset(const std::string& origin, std::string_view content,
                      const std::vector<std::string>& allowed_labels, BadLinePolicy policy) {
  // A UTF-8 byte order mark (Notepad writes one) is not part of the first line's JSON.
  if (content.substr(0, 3) == "\xEF\xBB\xBF") content.remove_prefix(3);
  Dataset dataset;
  LineParser parser(origin, allowed_labels);
  int number = 0;
  while (!content.empty()) {
    ++number;
    std::size_t end = content.find('\n');
    std::string_view line = content.substr(0, end);
    content.remove_prefix(end == std::string_view::npos ? content.size() : end + 1);
    if (blank(line)) continue;
    try {
      dataset.items.push_back(parser.parse(line, number));
    } catch (const InputError& e) {
      if (policy == BadLinePolicy::strict) throw;
      if (++dataset.error_count <= kMaxReportedErrors) dataset.errors.push_back({number, e.what()});
    }
  }
  return dataset;
}

Dataset read_dataset(const std::filesystem::path& file,
                     const std::vector<std::string>& allowed_labels, BadLinePolicy policy) {
  return parse_dataset(path_utf8(file), read_file(file), allowed_labels, policy);
}

}  // namespace tandem::distill
