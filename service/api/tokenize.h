// POST /tokenize and POST /detokenize in llama-server's shapes, over the model's vocabulary:
//   {"content":"Hello","add_special":false,"parse_special":true,"with_pieces":false}
//     -> {"tokens":[15043]}, or with_pieces: {"tokens":[{"id":15043,"piece":" Hello"}]}
//   {"tokens":[15043]} -> {"content":" Hello"}
#pragma once

#include <nlohmann/json.hpp>

#include "inference/completion.h"
#include "service/http/http_types.h"

namespace tandem::api {

// `body`: the request's body, parsed once by the API (parse_body).
http::Response handle_tokenize(const nlohmann::json& body,
                               const inference::CompletionBackend& backend);
http::Response handle_detokenize(const nlohmann::json& body,
                                 const inference::CompletionBackend& backend);

}  // namespace tandem::api
