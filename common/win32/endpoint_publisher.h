// discovery::Publisher on Windows: HKLM\SOFTWARE\Tandem\<key> plus the \\.\pipe\<name> server
// that answers resolve/wait/status from the same state.
#pragma once

#include <memory>
#include <string>

#include "common/discovery/publication_state.h"
#include "common/discovery/publisher.h"
#include "common/win32/pipe_server.h"
#include "common/win32/registry_publication.h"

namespace tandem::win32 {

class EndpointPublisher final : public discovery::Publisher {
 public:
  // `identity` carries pid, instance id, pipe name, model and start time. Creates the pipe
  // first: a squatter on the name makes this throw before anything is published or bound.
  // `service_name` gets write access to both (its virtual account's SID).
  EndpointPublisher(const std::string& registry_key, const discovery::Endpoint& identity,
                    std::string_view service_name);
  ~EndpointPublisher() override;

  void starting(const discovery::Endpoint& endpoint) override;
  void ready(const discovery::Endpoint& endpoint) override;
  void withdraw() override;

 private:
  discovery::PublicationState state_;
  PipeServer pipe_;
  RegistryPublication registry_;
  bool withdrawn_ = false;
};

}  // namespace tandem::win32
