#include "service/api/errors.h"

#include "service/models/model_router.h"

#include "inference/completion.h"

namespace tandem::api {

ApiError::ApiError(int status, std::string type, std::string code, const std::string& message,
                   std::string param)
    : Error(message),
      status_(status),
      type_(std::move(type)),
      code_(std::move(code)),
      param_(std::move(param)) {}

ApiError& ApiError::with_header(const std::string& name, const std::string& value) {
  headers_[name] = value;
  return *this;
}

ApiError invalid_field(const std::string& field, const std::string& what) {
  return ApiError(400, "invalid_request_error", "invalid_value", "field '" + field + "': " + what,
                  field);
}

ApiError to_api_error(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const ApiError& e) {
    return e;
  } catch (const inference::QueueFull& e) {
    return ApiError(503, "unavailable_error", "queue_full",
                    std::string("server busy, retry shortly: ") + e.what())
        .with_header("Retry-After", "1");
  } catch (const models::ModelNotFound& e) {
    return ApiError(404, "invalid_request_error", "model_not_found", e.what(), "model");
  } catch (const models::ModelUnavailable& e) {
    return ApiError(503, "unavailable_error", "model_unavailable", e.what())
        .with_header("Retry-After", "5");
  } catch (const models::ModelLoadFailed& e) {
    return ApiError(500, "server_error", "model_load_failed", e.what(), "model");
  } catch (const inference::PromptTooLong& e) {
    // OpenAI's code for the same condition, which some clients act on.
    return ApiError(400, "invalid_request_error", "context_length_exceeded", e.what(), "prompt");
  } catch (const InputError& e) {
    // Inference names the request field it refused, as the API's own checks do.
    const std::string what(e.what());
    const std::string prefix = e.where() + ": ";
    if (e.where().empty() || what.rfind(prefix, 0) != 0) {
      return ApiError(400, "invalid_request_error", "invalid_value", what);
    }
    return invalid_field(e.where(), what.substr(prefix.size()));
  } catch (const std::exception& e) {
    return ApiError(500, "server_error", "internal_error",
                    std::string("internal error: ") + e.what());
  } catch (...) {
    return ApiError(500, "server_error", "internal_error", "internal error: unknown exception");
  }
}

Json error_json(const ApiError& error) {
  Json param = error.param().empty() ? Json(nullptr) : Json(error.param());
  return {{"error",
           {{"message", error.what()},
            {"type", error.type()},
            {"param", std::move(param)},
            {"code", error.code()}}}};
}

http::Response error_response(const ApiError& error) {
  http::Response response;
  response.status = error.status();
  response.headers = error.headers();
  response.body = json_text(error_json(error));
  return response;
}

}  // namespace tandem::api
