#include "common/win32/endpoint_publisher.h"

#include "common/discovery/request_handler.h"
#include "common/log.h"

namespace tandem::win32 {

EndpointPublisher::EndpointPublisher(const std::string& registry_key,
                                     const discovery::Endpoint& identity,
                                     std::string_view service_name)
    : state_(identity),
      pipe_(identity.pipe_name, PipeServer::sddl_for_service(service_name),
            [this](std::string_view request, std::stop_token stop) {
              return discovery::handle_request(state_, request, stop);
            }),
      registry_(registry_key, HKEY_LOCAL_MACHINE, publication_key_sddl(service_name)) {}

EndpointPublisher::~EndpointPublisher() {
  if (!withdrawn_) {
    try {
      withdraw();
    } catch (const std::exception& e) {
      TLOG(error) << "withdrawing the publication failed: " << e.what();
    }
  }
  pipe_.stop();
}

void EndpointPublisher::starting(const discovery::Endpoint& endpoint) {
  registry_.starting(endpoint);
  state_.set_state(discovery::State::starting);
}

void EndpointPublisher::ready(const discovery::Endpoint& endpoint) {
  registry_.ready(endpoint);
  state_.publish_ready(endpoint);
}

void EndpointPublisher::withdraw() {
  withdrawn_ = true;
  state_.withdraw();
  registry_.withdraw();
  state_.set_state(discovery::State::stopped);
}

}  // namespace tandem::win32
