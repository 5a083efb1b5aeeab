#include "service/api/model_routes.h"

#include <chrono>

#include "common/files.h"
#include "service/api/errors.h"
#include "service/api/model_choice.h"
#include "service/api/openai_json.h"
#include "service/api/request_fields.h"
#include "service/api/sse.h"

namespace tandem::api {
namespace {

using namespace std::chrono_literals;

// One model as both lists show it: OpenAI's fields, then llama-server's router's `status`.
Json model_json(const models::ModelInfo& m, std::int64_t created) {
  Json status = {{"value", m.removed ? "removed" : models::to_string(m.state)}};
  if (m.state == models::ModelState::failed) status["failed"] = true;
  if (!m.error.empty()) status["error"] = m.error;
  Json j = {{"id", m.id},
            {"object", "model"},
            {"created", created},
            {"owned_by", "tandem"},
            {"path", path_utf8(m.file)},
            {"size_bytes", m.bytes},
            {"status", std::move(status)},
            {"default", m.is_default},
            {"in_flight", m.in_flight}};
  if (!m.aliases.empty()) j["aliases"] = m.aliases;
  if (m.test_model) {
    j["test_model"] = true;
    j["note"] = "test model: output is meaningless \u2014 set `model`";
  }
  return j;
}

http::Response json_response(const Json& body) {
  http::Response response;
  response.body = json_text(body);
  return response;
}

// The `model` of a load or unload body, required; nothing else is accepted but keep_alive.
std::string required_model(const nlohmann::json& body) {
  FieldReader f(body);
  take_model_choice(f);
  f.refuse_unread();
  auto model = f.string("model");
  if (!model || model->empty()) f.fail("model", "required: the id of a model in GET /models");
  return *model;
}

}  // namespace

http::Response handle_model_list(models::ModelRouter& router, std::int64_t created) {
  Json data = Json::array();
  for (const auto& m : router.list()) data.push_back(model_json(m, created));
  return json_response({{"object", "list"}, {"data", std::move(data)}});
}

http::Response handle_model_load(const nlohmann::json& body, models::ModelRouter& router) {
  const std::string model = required_model(body);
  const ModelChoice choice = read_model_choice(body);
  router.acquire(model, choice.keep_alive);  // loaded once acquired; the lease ends at once
  return json_response({{"success", true}});
}

http::Response handle_model_unload(const nlohmann::json& body, models::ModelRouter& router) {
  router.unload(required_model(body));
  return json_response({{"success", true}});
}

http::Response handle_model_events(models::ModelRouter& router) {
  http::Response response;
  response.content_type = "text/event-stream";
  response.headers["Cache-Control"] = "no-cache";
  response.stream = [&router](const http::ChunkWriter& write) {
    SseWriter sse(write);
    std::uint64_t seen = router.last_event();
    for (const auto& m : router.list()) {
      if (!sse.event({{"event", "model_status"}, {"model", model_json(m, 0)}})) return;
    }
    while (!router.stopped()) {
      const auto events = router.events_after(seen, 15s);
      if (events.empty()) {
        if (!sse.keep_alive()) return;  // the bound is a heartbeat: a gone client is noticed
        continue;
      }
      for (const auto& e : events) {
        if (!sse.event({{"event", "model_status"}, {"model", model_json(e.model, 0)}})) return;
        seen = e.seq;
      }
    }
    sse.done();
  };
  return response;
}

}  // namespace tandem::api
