#include "service/api/embeddings.h"

#include <bit>
#include <cstring>
#include <limits>
#include <string>

#include "common/base64.h"
#include "service/api/errors.h"
#include "service/api/model_choice.h"
#include "service/api/openai_json.h"
#include "service/api/request_fields.h"

namespace tandem::api {
namespace {

constexpr std::size_t kMaxInputs = 2048;  // OpenAI's limit

bool is_token_id(const nlohmann::json& v) {
  return v.is_number_integer();
}

std::vector<std::int32_t> token_ids(const nlohmann::json& ids, const std::string& name) {
  std::vector<std::int32_t> out;
  out.reserve(ids.size());
  for (std::size_t j = 0; j < ids.size(); ++j) {
    const nlohmann::json& id = ids[j];
    const std::string id_name = name + "[" + std::to_string(j) + "]";
    if (!is_token_id(id)) {
      throw invalid_field(id_name, "expected a token id (an integer), got " + json_type_name(id));
    }
    const auto value = id.get<std::int64_t>();
    if (value < 0 || value > std::numeric_limits<std::int32_t>::max()) {
      throw invalid_field(
          id_name, "token id " + std::to_string(value) + " is not in the model's vocabulary");
    }
    out.push_back(static_cast<std::int32_t>(value));
  }
  return out;
}

void read_input(const FieldReader& f, EmbeddingRequest& r) {
  const nlohmann::json* input = f.get("input");
  if (!input) f.fail("input", "required");
  if (input->is_string()) {
    r.single = true;
    r.inputs.emplace_back(input->get<std::string>());
    return;
  }
  const std::string expected =
      "a string, an array of strings, an array of token ids or an array of such arrays";
  if (!input->is_array())
    f.fail("input", "expected " + expected + ", got " + json_type_name(*input));
  if (input->empty()) f.fail("input", "must not be empty");
  if (input->size() > kMaxInputs) {
    f.fail("input", "at most " + std::to_string(kMaxInputs) + " inputs, got " +
                        std::to_string(input->size()));
  }
  if (is_token_id(input->front())) {
    r.single = true;
    r.inputs.emplace_back(token_ids(*input, "input"));
    return;
  }
  for (std::size_t i = 0; i < input->size(); ++i) {
    const nlohmann::json& one = (*input)[i];
    const std::string name = "input[" + std::to_string(i) + "]";
    if (one.is_string()) {
      r.inputs.emplace_back(one.get<std::string>());
    } else if (one.is_array()) {
      r.inputs.emplace_back(token_ids(one, name));
    } else {
      throw invalid_field(name,
                          "expected a string or an array of token ids, got " + json_type_name(one));
    }
  }
}

// The vector's float32 values as little-endian bytes, whatever the machine's order.
std::string float_bytes(const std::vector<float>& v) {
  std::string bytes(v.size() * 4, '\0');
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::uint32_t bits = std::bit_cast<std::uint32_t>(v[i]);
    for (int b = 0; b < 4; ++b) {
      bytes[i * 4 + static_cast<std::size_t>(b)] = static_cast<char>(bits & 0xff);
      bits >>= 8;
    }
  }
  return bytes;
}

}  // namespace

EmbeddingRequest read_embedding_request(const nlohmann::json& root, int embedding_size) {
  FieldReader f(root);
  EmbeddingRequest r;
  take_model_choice(f);
  r.model = f.string("model").value_or("");
  read_input(f, r);
  if (auto format = f.string("encoding_format")) {
    if (*format != "float" && *format != "base64") {
      f.fail("encoding_format", "expected \"float\" or \"base64\", got \"" + *format + "\"");
    }
    r.base64 = *format == "base64";
  }
  if (auto dimensions = f.integer("dimensions", 1, std::numeric_limits<std::int32_t>::max());
      dimensions && *dimensions != embedding_size) {
    f.fail("dimensions", "the model's embeddings have " + std::to_string(embedding_size) +
                             " dimensions and cannot be shortened; got " +
                             std::to_string(*dimensions));
  }
  f.string("user");  // the caller's end-user id: OpenAI uses it for abuse monitoring, no output
  f.refuse_unread();
  return r;
}

http::Response handle_embeddings(const nlohmann::json& request_body,
                                 inference::CompletionBackend& backend, Metrics& metrics) {
  const EmbeddingRequest parsed = read_embedding_request(request_body, backend.embedding_size());
  inference::Embeddings result;
  try {
    result = backend.embed(parsed.inputs);
  } catch (const InputError& e) {
    // Inference names inputs by their index; a single input was sent as `input` itself.
    const std::string& where = e.where();
    if (!parsed.single || where.rfind("input[0]", 0) != 0) throw;
    const std::string what = std::string(e.what()).substr(where.size() + 2);
    throw InputError("input" + where.substr(8), what);
  }
  metrics.add_tokens(result.prompt_tokens, 0);
  Json data = Json::array();
  for (std::size_t i = 0; i < result.vectors.size(); ++i) {
    const auto& v = result.vectors[i];
    Json embedding = parsed.base64 ? Json(base64_encode(float_bytes(v))) : Json(v);
    data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", std::move(embedding)}});
  }
  Json body = {
      {"object", "list"},
      {"data", std::move(data)},
      {"model", backend.model_id()},
      {"usage", {{"prompt_tokens", result.prompt_tokens}, {"total_tokens", result.prompt_tokens}}}};
  http::Response response;
  response.body = json_text(body);
  return response;
}

}  // namespace tandem::api
