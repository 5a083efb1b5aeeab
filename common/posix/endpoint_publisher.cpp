#include "common/posix/endpoint_publisher.h"

#include <system_error>

#include "common/discovery/request_handler.h"
#include "common/error.h"
#include "common/files.h"
#include "common/log.h"
#include "common/posix/runtime_dir.h"
#include "common/posix/runtime_file.h"

namespace tandem::posix {
namespace {

std::filesystem::path created(const std::filesystem::path& folder) {
  std::filesystem::create_directories(folder);
  return folder;
}

}  // namespace

EndpointPublisher::EndpointPublisher(const std::filesystem::path& runtime_dir,
                                     discovery::Endpoint identity)
    : file_(created(runtime_dir) / kLlmPublicationFile),
      socket_(runtime_dir / kLlmSocket),
      state_(with_socket(std::move(identity))),
      server_(socket_, [this](std::string_view request, std::stop_token stop) {
        return discovery::handle_request(state_, request, stop);
      }) {}

EndpointPublisher::~EndpointPublisher() {
  if (!withdrawn_) {
    try {
      withdraw();
    } catch (const std::exception& e) {
      TLOG(error) << "withdrawing the publication failed: " << e.what();
    }
  }
  server_.stop();
}

discovery::Endpoint EndpointPublisher::with_socket(discovery::Endpoint endpoint) const {
  endpoint.pipe_name = path_utf8(socket_);
  return endpoint;
}

void EndpointPublisher::starting(const discovery::Endpoint& endpoint) {
  // A `ready` file left by a killed run is replaced before anything else happens.
  auto e = with_socket(endpoint);
  e.state = discovery::State::starting;
  write_runtime_file(file_, e);
  state_.set_state(discovery::State::starting);
}

void EndpointPublisher::ready(const discovery::Endpoint& endpoint) {
  auto e = with_socket(endpoint);
  e.state = discovery::State::ready;
  // One atomic replace: the file says `ready` with its port, or still `starting`.
  write_runtime_file(file_, e);
  state_.publish_ready(e);
}

void EndpointPublisher::withdraw() {
  withdrawn_ = true;
  state_.withdraw();
  std::error_code error;
  std::filesystem::remove(file_, error);
  state_.set_state(discovery::State::stopped);
  if (error) throw Error("removing " + path_utf8(file_) + " failed: " + error.message());
}

}  // namespace tandem::posix
