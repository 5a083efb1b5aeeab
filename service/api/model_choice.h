// Which model a request is for: its `model` (an id or alias of the models folder; absent: the
// default) and `keep_alive` (Ollama's: how long the model stays loaded once idle). The API reads
// them before the route's handler, which takes them as read (take_model_choice).
#pragma once

#include <optional>
#include <string>

#include "common/keep_alive.h"
#include "service/api/request_fields.h"

namespace tandem::api {

struct ModelChoice {
  std::string model;  // empty: the default model
  std::optional<KeepAlive> keep_alive;
};

// From the request's body, parsed once by the API (parse_body). 400 naming `keep_alive` when
// that is invalid.
ModelChoice read_model_choice(const nlohmann::json& body);

// Marks both fields read in a handler's reader (type-checking `model`).
void take_model_choice(const FieldReader& f);

}  // namespace tandem::api
