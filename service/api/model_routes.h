// The models of the router over HTTP: GET /v1/models (OpenAI's list, with each model's state),
// and llama-server's router routes GET /models, POST /models/load, POST /models/unload, with
// GET /models/events streaming state changes as Server-Sent Events.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "service/http/http_types.h"
#include "service/models/model_router.h"

namespace tandem::api {

http::Response handle_model_list(models::ModelRouter& router, std::int64_t created);
// `body`: the request's body, parsed once by the API (parse_body).
http::Response handle_model_load(const nlohmann::json& body, models::ModelRouter& router);
http::Response handle_model_unload(const nlohmann::json& body, models::ModelRouter& router);
// The current state of every model, then each change as it happens, until the client goes or
// the router shuts down. `router` must outlive the response.
http::Response handle_model_events(models::ModelRouter& router);

}  // namespace tandem::api
