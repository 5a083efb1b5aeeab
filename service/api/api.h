// The HTTP API of TandemLlm (docs/architecture.md#http-api) as one function from request to
// response, with no sockets: the transport calls handle() on its own threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "inference/completion.h"
#include "service/api/completion_request.h"
#include "service/api/metrics.h"
#include "service/http/http_types.h"
#include "service/models/model_router.h"

namespace tandem::api {

struct ApiOptions {
  std::string instance_id;  // sent as X-Tandem-Instance on every response
  std::string api_key;      // empty: no key needed
  RequestLimits limits;
  std::vector<std::string> cors_origins;  // pages that may call the API from a browser
};

class Api {
 public:
  // `backend` (the one model, for tests; the service sets a router) may be null while the model
  // loads (inference routes then answer 503); it must outlive every response handed out,
  // streamed ones included.
  Api(inference::CompletionBackend* backend, ApiOptions options);

  // Safe to call from many threads at once; never throws.
  http::Response handle(const http::Request& request);

  // The models requests are routed to: set once the default model has loaded, null again while
  // shutting down. The router must outlive every response handed out.
  void set_router(models::ModelRouter* router);
  // A router of this one model, owned by the Api (null: none).
  void set_backend(inference::CompletionBackend* backend);

  const Metrics& metrics() const { return metrics_; }

 private:
  http::Response dispatch(const http::Request& request, std::string_view& route_label);
  // The CORS headers an allowed browser page needs to read the response; none for other callers.
  void add_cors_headers(const http::Request& request, http::Response& response) const;

  std::atomic<models::ModelRouter*> router_{nullptr};
  std::mutex own_mutex_;
  std::vector<std::unique_ptr<models::ModelRouter>> own_routers_;  // set_backend's, kept to the end
  const ApiOptions options_;
  Metrics metrics_;
  const std::int64_t started_;  // Unix seconds: the "created" of the model
};

}  // namespace tandem::api
