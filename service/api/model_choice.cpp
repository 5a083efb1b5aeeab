#include "service/api/model_choice.h"

#include "service/api/errors.h"

namespace tandem::api {

ModelChoice read_model_choice(const nlohmann::json& body) {
  ModelChoice choice;
  if (auto m = body.find("model"); m != body.end() && m->is_string()) {
    choice.model = m->get<std::string>();
  }
  if (auto k = body.find("keep_alive"); k != body.end() && !k->is_null()) {
    std::string error;
    choice.keep_alive = parse_keep_alive(*k, error);
    if (!choice.keep_alive) throw invalid_field("keep_alive", error + ", got " + k->dump());
  }
  return choice;
}

void take_model_choice(const FieldReader& f) {
  f.string("model");
  f.get("keep_alive");
}

}  // namespace tandem::api
