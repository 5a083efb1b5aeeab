#include "common/discovery/health_check.h"

#include <chrono>

#include "common/error.h"
#include "common/http_client.h"

namespace tandem::discovery {

std::optional<std::string> check_health(const Endpoint& published) {
  using namespace std::chrono_literals;
  try {
    HttpClientOptions options;
    options.connect_timeout = 1s;
    options.read_timeout = 5s;
    HttpClient client(published.url, options);
    auto r = client.get("/health");
    if (r.status != 200) {
      return "GET " + published.url + "/health answered " + std::to_string(r.status);
    }
    if (r.header("x-tandem-instance") != published.instance_id) {
      return published.url + " is answered by instance '" + r.header("x-tandem-instance") +
             "', not " + published.instance_id + ": another program holds the port";
    }
  } catch (const Error& e) {
    return e.what();
  }
  return std::nullopt;
}

}  // namespace tandem::discovery
