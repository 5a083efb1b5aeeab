#include "service/api/api.h"

#include <chrono>
#include <ctime>

#include "common/log.h"
#include "service/api/completion_handlers.h"
#include "service/api/embeddings.h"
#include "service/api/errors.h"
#include "service/api/guards.h"
#include "service/api/model_choice.h"
#include "service/api/model_routes.h"
#include "service/api/openai_json.h"
#include "service/api/request_fields.h"
#include "service/api/tokenize.h"

namespace tandem::api {
namespace {

struct RouteContext {
  inference::CompletionBackend* backend;  // the request's model, where the route needs one
  models::ModelRouter* router;            // not null where the route needs the models
  Metrics& metrics;
  const ApiOptions& options;
  std::int64_t started;
  const nlohmann::json* body;  // a POST's, parsed once (parse_body); null for a GET
};

http::Response json_response(int status, const Json& body) {
  http::Response response;
  response.status = status;
  response.body = json_text(body);
  return response;
}

http::Response health(const http::Request&, const RouteContext& c) {
  // Like llama-server: 503 until the model is loaded, so pollers can wait on it.
  if (!c.router) return json_response(503, {{"status", "loading"}});
  return json_response(200, {{"status", "ok"}});
}

http::Response metrics_text(const http::Request&, const RouteContext& c) {
  http::Response response;
  response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  if (c.router) {
    const auto stats = c.router->acquire("")->stats();  // the default model's
    response.body = c.metrics.render(&stats);
  } else {
    response.body = c.metrics.render(nullptr);
  }
  return response;
}

http::Response models(const http::Request&, const RouteContext& c) {
  return handle_model_list(*c.router, c.started);
}

http::Response models_load(const http::Request&, const RouteContext& c) {
  return handle_model_load(*c.body, *c.router);
}

http::Response models_unload(const http::Request&, const RouteContext& c) {
  return handle_model_unload(*c.body, *c.router);
}

http::Response models_events(const http::Request&, const RouteContext& c) {
  return handle_model_events(*c.router);
}

http::Response completions(const http::Request& request, const RouteContext& c) {
  return handle_completion(Endpoint::completions, request, *c.body,
                           {*c.backend, c.metrics, c.options.limits});
}

http::Response chat_completions(const http::Request& request, const RouteContext& c) {
  return handle_completion(Endpoint::chat, request, *c.body,
                           {*c.backend, c.metrics, c.options.limits});
}

http::Response embeddings(const http::Request&, const RouteContext& c) {
  return handle_embeddings(*c.body, *c.backend, c.metrics);
}

http::Response tokenize(const http::Request&, const RouteContext& c) {
  return handle_tokenize(*c.body, *c.backend);
}

http::Response detokenize(const http::Request&, const RouteContext& c) {
  return handle_detokenize(*c.body, *c.backend);
}

// What a route needs before its handler runs (503 while the default model loads).
enum class Needs { nothing, models, model };

struct Route {
  std::string_view method;
  std::string_view path;
  bool needs_key;  // when an API key is configured
  Needs needs;     // model: the request's model, loaded (the body's `model` names it)
  http::Response (*handler)(const http::Request&, const RouteContext&);
};

// clang-format off
constexpr Route kRoutes[] = {
  // method  path                    key    needs          handler
  {"GET",  "/health",              false, Needs::nothing, health},
  {"GET",  "/metrics",             true,  Needs::nothing, metrics_text},
  {"GET",  "/v1/models",           true,  Needs::models,  models},
  {"POST", "/v1/completions",      true,  Needs::model,   completions},
  {"POST", "/v1/chat/completions", true,  Needs::model,   chat_completions},
  {"POST", "/v1/embeddings",       true,  Needs::model,   embeddings},
  {"POST", "/tokenize",            true,  Needs::model,   tokenize},
  {"POST", "/detokenize",          true,  Needs::model,   detokenize},
  // llama-server's router routes: the API key guards them as it guards the rest.
  {"GET",  "/models",              true,  Needs::models,  models},
  {"POST", "/models/load",         true,  Needs::models,  models_load},
  {"POST", "/models/unload",       true,  Needs::models,  models_unload},
  {"GET",  "/models/events",       true,  Needs::models,  models_events},
};
// clang-format on

constexpr std::string_view kUnmatched = "unmatched";

std::string_view quoted_prefix(std::string_view s) {
  return s.substr(0, 100);
}

}  // namespace

Api::Api(inference::CompletionBackend* backend, ApiOptions options)
    : options_(std::move(options)), started_(static_cast<std::int64_t>(std::time(nullptr))) {
  if (!options_.api_key.empty()) {
    TLOG(info) << "HTTP API requires an API key (" << key_hint(options_.api_key) << ")";
  }
  set_backend(backend);
}

void Api::set_router(models::ModelRouter* router) {
  router_.store(router);
}

void Api::set_backend(inference::CompletionBackend* backend) {
  if (!backend) {
    set_router(nullptr);
    return;
  }
  auto router = std::make_unique<models::ModelRouter>(models::RouterOptions{}, nullptr);
  models::CatalogEntry entry;
  entry.id = backend->model_id();
  router->set_default(std::move(entry), std::shared_ptr<inference::CompletionBackend>(
                                            backend, [](inference::CompletionBackend*) {}));
  std::lock_guard lock(own_mutex_);
  set_router(router.get());
  own_routers_.push_back(std::move(router));
}

http::Response Api::dispatch(const http::Request& request, std::string_view& route_label) {
  if (auto host = request.header("Host"); !host_allowed(host)) {
    throw ApiError(403, "permission_error", "forbidden_host",
                   "Host '" + std::string(quoted_prefix(*host)) +
                       "' is not served: use 127.0.0.1, [::1] or localhost");
  }
  const auto origin = request.header("Origin");
  if (!origin_allowed(origin, options_.cors_origins)) {
    throw ApiError(403, "permission_error", "forbidden_origin",
                   "Origin '" + std::string(quoted_prefix(*origin)) +
                       "' may not call this server: add it to cors_origins in llm-server.json");
  }
  const Route* route = nullptr;
  std::string allow;
  for (const Route& r : kRoutes) {
    if (r.path != request.path) continue;
    route_label = r.path;  // the table's own string: it outlives a streamed response
    if (r.method == request.method) route = &r;
    allow += (allow.empty() ? "" : ", ") + std::string(r.method);
  }
  if (allow.empty()) {
    throw ApiError(404, "invalid_request_error", "not_found",
                   "no route " + request.method + " " + std::string(quoted_prefix(request.path)));
  }
  if (!route && request.method == "OPTIONS" && origin) {
    // A browser's preflight from an allowed page (the Origin check above passed).
    http::Response preflight;
    preflight.status = 204;
    preflight.content_type.clear();
    preflight.headers["Access-Control-Allow-Methods"] = allow;
    preflight.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, X-Api-Key";
    preflight.headers["Access-Control-Max-Age"] = "600";
    return preflight;
  }
  if (!route) {
    throw ApiError(405, "invalid_request_error", "method_not_allowed",
                   request.path + " accepts " + allow + ", not " + request.method)
        .with_header("Allow", allow);
  }
  if (route->needs_key && !options_.api_key.empty()) {
    auto key = presented_key(request);
    if (!key || !constant_time_equal(*key, options_.api_key)) {
      TLOG(warning) << "rejected " << request.method << ' ' << request.path << " from "
                    << request.remote_address << ": "
                    << (key ? "wrong API key (" + key_hint(*key) + ")" : std::string("no API key"));
      throw ApiError(401, "authentication_error", "invalid_api_key",
                     key ? "wrong API key" : "API key required: send 'Authorization: Bearer <key>'")
          .with_header("WWW-Authenticate", "Bearer");
    }
  }
  if (route->method == "POST") {
    if (auto type = request.header("Content-Type"); !is_json_media_type(type)) {
      throw ApiError(
          415, "invalid_request_error", "unsupported_media_type",
          "Content-Type must be application/json, got " +
              (type ? "'" + std::string(quoted_prefix(*type)) + "'" : std::string("none")));
    }
  }
  models::ModelRouter* router = router_.load();
  if (route->needs != Needs::nothing && !router) {
    throw ApiError(503, "unavailable_error", "model_loading", "the model is still loading")
        .with_header("Retry-After", "1");
  }
  // A POST's body is parsed here, once: a broken one is a 400 before any model is loaded for it.
  const bool post = route->method == "POST";
  const nlohmann::json body = post ? parse_body(request.body) : nlohmann::json();
  const nlohmann::json* parsed = post ? &body : nullptr;
  if (route->needs != Needs::model) {
    return route->handler(request,
                          RouteContext{nullptr, router, metrics_, options_, started_, parsed});
  }
  const ModelChoice choice = read_model_choice(body);
  auto lease = std::make_shared<models::ModelRouter::Lease>(
      router->acquire(choice.model, choice.keep_alive));
  http::Response response = route->handler(
      request, RouteContext{lease->get(), router, metrics_, options_, started_, parsed});
  if (response.stream) {
    // A streamed answer keeps its model loaded until its last chunk.
    response.stream = [inner = std::move(response.stream),
                       lease = std::move(lease)](const http::ChunkWriter& write) { inner(write); };
  }
  return response;
}

void Api::add_cors_headers(const http::Request& request, http::Response& response) const {
  const auto origin = request.header("Origin");
  if (!origin || !origin_allowed(origin, options_.cors_origins)) return;
  response.headers["Access-Control-Allow-Origin"] = *origin;
  response.headers["Vary"] = "Origin";
  response.headers["Access-Control-Expose-Headers"] = "X-Tandem-Instance, Retry-After";
}

http::Response Api::handle(const http::Request& request) {
  const auto start = std::chrono::steady_clock::now();
  auto seconds = [start] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  std::string_view label = kUnmatched;
  http::Response response;
  try {
    response = dispatch(request, label);
  } catch (...) {
    const ApiError error = to_api_error(std::current_exception());
    metrics_.record_error(error.code());
    if (error.status() >= 500) {
      TLOG(error) << request.method << ' ' << request.path << ": " << error.status() << ' '
                  << error.what();
    } else {
      TLOG(info) << request.method << ' ' << request.path << ": " << error.status() << ' '
                 << error.what();
    }
    response = error_response(error);
  }
  response.headers["X-Tandem-Instance"] = options_.instance_id;
  add_cors_headers(request, response);
  if (!response.stream) {
    metrics_.record_request(label, response.status, seconds());
    return response;
  }
  // A streamed response lasts until its generator returns: measure it then.
  response.stream = [inner = std::move(response.stream), metrics = &metrics_, label,
                     status = response.status, seconds](const http::ChunkWriter& write) {
    try {
      inner(write);
    } catch (...) {
      metrics->record_request(label, status, seconds());
      throw;
    }
    metrics->record_request(label, status, seconds());
  };
  return response;
}

}  // namespace tandem::api
