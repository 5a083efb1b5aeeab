// A service's status for everyone on the machine: flat values under HKLM\SOFTWARE\Tandem\<key>
// (for tools that only read the registry) and a pipe that answers from live state. Used by
// TandemTrainer (docs/architecture.md#trainer-status).
#pragma once

#include <string>
#include <string_view>

#include "common/status_values.h"
#include "common/win32/pipe_server.h"
#include "common/win32/registry_publication.h"

namespace tandem::win32 {

class StatusPublication {
 public:
  // Creates the pipe first, so a squatter on the name makes this throw before anything is
  // written; then the key with the publication DACL.
  // `service_name` gets write access to both (its virtual account's SID).
  StatusPublication(const std::string& key_path, std::string_view pipe_name,
                    PipeServer::Handler handler, std::string_view service_name);
  // Stops the pipe; the last values written stay in the registry (State says stopped).
  ~StatusPublication();
  StatusPublication(const StatusPublication&) = delete;
  StatusPublication& operator=(const StatusPublication&) = delete;

  // Writes every value in order (put State last, as readers trust it).
  void write(const StatusValues& values);

 private:
  PipeServer pipe_;
  RegistryKey key_;
};

}  // namespace tandem::win32
