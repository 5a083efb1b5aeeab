// discovery::Publisher on Linux: <runtime>/llm-server.json plus the <runtime>/llm.sock server
// that answers resolve/wait/status from the same state (the twin of win32::EndpointPublisher).
#pragma once

#include <filesystem>

#include "common/discovery/publication_state.h"
#include "common/discovery/publisher.h"
#include "common/posix/socket_server.h"

namespace tandem::posix {

class EndpointPublisher final : public discovery::Publisher {
 public:
  // `identity` carries pid, instance id, model and start time; its pipe_name is replaced by the
  // socket's path. Creates the socket first: a squatter on it makes this throw before anything
  // is published or bound.
  EndpointPublisher(const std::filesystem::path& runtime_dir, discovery::Endpoint identity);
  // withdraw() if not done yet; then the socket goes.
  ~EndpointPublisher() override;

  void starting(const discovery::Endpoint& endpoint) override;
  void ready(const discovery::Endpoint& endpoint) override;
  // The state turns `stopping` (waiting clients are answered at once), the file is removed;
  // the socket keeps answering `stopped` until the publisher goes.
  void withdraw() override;

 private:
  discovery::Endpoint with_socket(discovery::Endpoint endpoint) const;

  std::filesystem::path file_;
  std::filesystem::path socket_;
  discovery::PublicationState state_;
  SocketServer server_;
  bool withdrawn_ = false;
};

}  // namespace tandem::posix
