// POST /v1/completions and POST /v1/chat/completions: parse, run inference through
// CompletionBackend, answer in OpenAI's shape, whole or streamed as Server-Sent Events.
#pragma once

#include "inference/completion.h"
#include "service/api/completion_request.h"
#include "service/api/metrics.h"
#include "service/http/http_types.h"

namespace tandem::api {

enum class Endpoint { completions, chat };

struct CompletionContext {
  inference::CompletionBackend& backend;  // must outlive a streamed response too
  Metrics& metrics;                       // likewise
  const RequestLimits& limits;
};

// Throws ApiError (or inference's errors) for what can be answered with a status; a streamed
// response reports later failures as an SSE error event, since its status has been sent.
// `request_body`: the request's body, parsed once by the API (parse_body).
http::Response handle_completion(Endpoint endpoint, const http::Request& request,
                                 const nlohmann::json& request_body,
                                 const CompletionContext& context);

}  // namespace tandem::api
