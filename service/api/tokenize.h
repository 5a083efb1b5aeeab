// POST /tokenize and POST /detokenize in llama-server's shapes, over the model's vocabulary:
//   {"content":"Hello","add_special":false,"parse_special":true,"with_pieces":false}
//     -> {"tokens":[15043]}, or with_pieces: {"tokens":[{"id":15043,"piece":" Hello"}]}
//   {"tokens":[15043]} -> {"content":" Hello"}
#pragma once

#include "inference/completion.h"
#include "service/http/http_types.h"

namespace tandem::api {

http::Response handle_tokenize(const http::Request& request,
                               const inference::CompletionBackend& backend);
http::Response handle_detokenize(const http::Request& request,
                                 const inference::CompletionBackend& backend);

}  // namespace tandem::api
