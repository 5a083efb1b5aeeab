#include "service/api/tokenize.h"

#include <limits>
#include <string>
#include <vector>

#include "inference/utf8.h"
#include "service/api/errors.h"
#include "service/api/model_choice.h"
#include "service/api/openai_json.h"
#include "service/api/request_fields.h"

namespace tandem::api {
namespace {

http::Response json_response(const Json& body) {
  http::Response response;
  response.body = json_text(body);
  return response;
}

// As llama-server: the piece's text when it is valid UTF-8, else its bytes as numbers (a
// character split over tokens).
Json piece_json(const std::string& piece) {
  if (inference::to_valid_utf8(piece) == piece) return piece;
  Json bytes = Json::array();
  for (const unsigned char c : piece) bytes.push_back(static_cast<int>(c));
  return bytes;
}

}  // namespace

http::Response handle_tokenize(const nlohmann::json& body,
                               const inference::CompletionBackend& backend) {
  FieldReader f(body);
  take_model_choice(f);
  const auto content = f.string("content");
  if (!content) f.fail("content", "required");
  // llama-server's defaults: no BOS, special tokens' text parsed.
  const bool add_special = f.boolean("add_special").value_or(false);
  const bool parse_special = f.boolean("parse_special").value_or(true);
  const bool with_pieces = f.boolean("with_pieces").value_or(false);
  f.refuse_unread();
  const auto tokens = backend.tokenize(*content, add_special, parse_special);
  Json out = Json::array();
  for (const auto token : tokens) {
    if (with_pieces) {
      out.push_back({{"id", token}, {"piece", piece_json(backend.token_piece(token))}});
    } else {
      out.push_back(token);
    }
  }
  return json_response({{"tokens", std::move(out)}});
}

http::Response handle_detokenize(const nlohmann::json& body,
                                 const inference::CompletionBackend& backend) {
  FieldReader f(body);
  take_model_choice(f);
  const nlohmann::json* tokens = f.get("tokens");
  if (!tokens) f.fail("tokens", "required");
  if (!tokens->is_array()) {
    f.fail("tokens", "expected an array of token ids, got " + json_type_name(*tokens));
  }
  f.refuse_unread();
  std::vector<std::int32_t> ids;
  ids.reserve(tokens->size());
  for (std::size_t i = 0; i < tokens->size(); ++i) {
    const nlohmann::json& id = (*tokens)[i];
    const std::string name = "tokens[" + std::to_string(i) + "]";
    if (!id.is_number_integer()) {
      throw invalid_field(name, "expected a token id (an integer), got " + json_type_name(id));
    }
    const auto value = id.get<std::int64_t>();
    if (value < std::numeric_limits<std::int32_t>::min() ||
        value > std::numeric_limits<std::int32_t>::max()) {
      throw invalid_field(
          name, "token id " + std::to_string(value) + " is not in the model's vocabulary");
    }
    ids.push_back(static_cast<std::int32_t>(value));
  }
  return json_response({{"content", backend.detokenize(ids)}});
}

}  // namespace tandem::api
