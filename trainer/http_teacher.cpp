#include "trainer/http_teacher.h"

#include <cstdint>
#include <nlohmann/json.hpp>

#include "common/json_fields.h"

namespace tandem::trainer {
namespace {

using nlohmann::json;

constexpr const char* kPath = "/v1/completions";

class EchoReader {
 public:
  explicit EchoReader(const std::string& label) : label_(label) {}

  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw Error(std::string("POST ") + kPath + " for label '" + label_ + "': " + field + " " +
                what);
  }

  const json& member(const json& object, const std::string& where, const std::string& key,
                     json::value_t type, const char* type_name) const {
    const std::string field = where.empty() ? key : where + "." + key;
    auto it = object.find(key);
    if (it == object.end()) fail(field, "is missing");
    if (it->type() != type)
      fail(field, "must be " + std::string(type_name) + ", not " + json_type_name(*it));
    return *it;
  }

 private:
  const std::string& label_;
};

}  // namespace

double label_logprob_from_echo(const std::string& response_body, const std::string& label) {
  EchoReader r(label);
  const json body = json::parse(response_body, nullptr, false);
  if (body.is_discarded()) r.fail("the response", "is not JSON");
  if (!body.is_object()) r.fail("the response", "must be an object, not " + json_type_name(body));
  const json& choices = r.member(body, "", "choices", json::value_t::array, "an array");
  if (choices.empty()) r.fail("choices", "is empty");
  if (!choices[0].is_object()) r.fail("choices[0]", "must be an object");
  const json& choice = choices[0];
  const auto& text = r.member(choice, "choices[0]", "text", json::value_t::string, "a string")
                         .get_ref<const std::string&>();
  const json& logprobs =
      r.member(choice, "choices[0]", "logprobs", json::value_t::object, "an object");
  const std::string lp = "choices[0].logprobs";
  const json& tokens = r.member(logprobs, lp, "tokens", json::value_t::array, "an array");
  const json& values = r.member(logprobs, lp, "token_logprobs", json::value_t::array, "an array");
  const json& offsets = r.member(logprobs, lp, "text_offset", json::value_t::array, "an array");
  if (values.size() != tokens.size() || offsets.size() != tokens.size()) {
    r.fail(lp, "has " + std::to_string(tokens.size()) + " tokens, " +
                   std::to_string(values.size()) + " token_logprobs and " +
                   std::to_string(offsets.size()) + " text_offset entries");
  }

  const std::string continuation = " " + label;
  if (text.size() < continuation.size() ||
      text.compare(text.size() - continuation.size(), continuation.size(), continuation) != 0) {
    r.fail("choices[0].text", "does not end with the label: the prompt was not echoed");
  }
  const std::size_t boundary = text.size() - continuation.size();

  // Token i covers bytes [offset[i], offset[i+1]) of text; the last one runs to the end.
  std::vector<std::size_t> starts(tokens.size());
  for (std::size_t i = 0; i < starts.size(); ++i) {
    const json& o = offsets[i];
    const std::string field = lp + ".text_offset[" + std::to_string(i) + "]";
    if (!o.is_number_integer()) r.fail(field, "must be an integer, not " + json_type_name(o));
    const auto v = o.get<std::int64_t>();
    if (v < 0 || static_cast<std::uint64_t>(v) > text.size()) {
      r.fail(field, "is " + std::to_string(v) + ", outside the " + std::to_string(text.size()) +
                        "-byte text");
    }
    starts[i] = static_cast<std::size_t>(v);
    if (i > 0 && starts[i] < starts[i - 1]) r.fail(field, "goes backwards");
  }

  double sum = 0.0;
  std::size_t counted = 0;
  for (std::size_t i = 0; i < starts.size(); ++i) {
    const std::size_t end = i + 1 < starts.size() ? starts[i + 1] : text.size();
    if (end <= starts[i] || end <= boundary) continue;  // empty, or all prompt
    const json& v = values[i];
    const std::string field = lp + ".token_logprobs[" + std::to_string(i) + "]";
    if (v.is_null()) r.fail(field, "is null for a token of the label");
    if (!v.is_number()) r.fail(field, "must be a number, not " + json_type_name(v));
    sum += v.get<double>();
    ++counted;
  }
  if (counted == 0) r.fail(lp, "has no token covering \"" + continuation + "\"");
  return sum;
}

std::vector<double> HttpTeacher::score_labels(const std::string& model, const std::string& prompt,
                                              const std::vector<std::string>& labels,
                                              std::stop_token stop) {
  std::vector<double> scores;
  scores.reserve(labels.size());
  for (const auto& label : labels) {
    json request = {{"prompt", prompt + " " + label},
                    {"echo", true},
                    {"logprobs", 0},
                    {"max_tokens", 0},
                    {"temperature", 0}};
    if (!model.empty()) request["model"] = model;
    std::string body;
    try {
      body = request.dump();
    } catch (const json::exception&) {
      throw Error("teacher prompt for label '" + label + "' is not valid UTF-8");
    }
    HttpResult r = client_.post_json(kPath, body, stop);
    scores.push_back(label_logprob_from_echo(r.body, label));
  }
  return scores;
}

}  // namespace tandem::trainer
