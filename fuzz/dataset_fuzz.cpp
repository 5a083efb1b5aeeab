// The distill dataset's JSONL parser: collecting and strict mode agree (strict throws exactly
// when collecting found a bad line, naming the first one); every error names "<file>:<line>";
// items carry only allowed labels and unique ids. Also cross-checks the UTF-8 validator against
// nlohmann's: both must accept and refuse the same bytes.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "fuzz/fuzz_check.h"
#include "trainer/distill/dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tandem::distill;
  const std::string_view content(reinterpret_cast<const char*>(data), size);
  const std::string origin = "data.jsonl";
  const std::vector<std::string> labels = {"positive", "negative"};

  bool nlohmann_accepts = true;
  try {
    (void)nlohmann::json(std::string(content)).dump();
  } catch (const nlohmann::json::type_error&) {
    nlohmann_accepts = false;
  }
  const auto problem = utf8_problem(content);
  TANDEM_FUZZ_CHECK(nlohmann_accepts == !problem.has_value(), problem.value_or("(valid)"));

  Dataset collected;
  try {
    collected = parse_dataset(origin, content, labels, BadLinePolicy::collect);
  } catch (const std::exception& e) {
    TANDEM_FUZZ_CHECK(false, std::string("collect mode threw: ") + e.what());
  }
  TANDEM_FUZZ_CHECK(collected.errors.size() == std::min(collected.error_count, kMaxReportedErrors),
                    std::to_string(collected.errors.size()));
  int previous = 0;
  std::set<std::string> ids;
  for (const auto& item : collected.items) {
    TANDEM_FUZZ_CHECK(item.line > previous, std::to_string(item.line));
    previous = item.line;
    TANDEM_FUZZ_CHECK(ids.insert(item.id).second, "duplicate id " + item.id);
    TANDEM_FUZZ_CHECK(!item.text.empty(), "empty text on line " + std::to_string(item.line));
    if (item.gold_label) {
      TANDEM_FUZZ_CHECK(*item.gold_label == labels[0] || *item.gold_label == labels[1],
                        *item.gold_label);
    }
  }
  for (const auto& error : collected.errors) {
    const std::string prefix = origin + ":" + std::to_string(error.line);
    TANDEM_FUZZ_CHECK(
        error.message.rfind(prefix, 0) == 0 && error.message.size() > prefix.size() + 2,
        error.message);
  }

  try {
    Dataset strict = parse_dataset(origin, content, labels, BadLinePolicy::strict);
    TANDEM_FUZZ_CHECK(collected.error_count == 0, "strict mode accepted a bad line");
    TANDEM_FUZZ_CHECK(strict.items.size() == collected.items.size(), "modes disagree");
  } catch (const tandem::InputError& e) {
    TANDEM_FUZZ_CHECK(!collected.errors.empty() && collected.errors.front().message == e.what(),
                      e.what());
  } catch (const std::exception& e) {
    TANDEM_FUZZ_CHECK(false, std::string("strict mode threw a non-InputError: ") + e.what());
  }
  return 0;
}
