// POST /v1/embeddings in OpenAI's shape: `input` a string, strings, token ids or arrays of them;
// `encoding_format` float or base64 (the float32 vector's little-endian bytes); `dimensions`
// only at the model's own size; vectors pooled and normalised by inference.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "inference/completion.h"
#include "service/api/metrics.h"
#include "service/http/http_types.h"

namespace tandem::api {

struct EmbeddingRequest {
  std::vector<inference::EmbeddingInput> inputs;
  bool single = false;  // `input` was one text or one token array, not an array of them
  bool base64 = false;
  std::string model;  // as sent; informational only
};

// `embedding_size`: the model's, the one value `dimensions` may have.
EmbeddingRequest read_embedding_request(const nlohmann::json& root, int embedding_size);

// `request_body`: the request's body, parsed once by the API (parse_body).
http::Response handle_embeddings(const nlohmann::json& request_body,
                                 inference::CompletionBackend& backend, Metrics& metrics);

}  // namespace tandem::api
