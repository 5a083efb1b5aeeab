// A service's status for everyone on the machine, the Linux twin of win32::StatusPublication: a
// JSON file in the runtime folder (for tools that only read files, and inotify watchers) and a
// socket that answers from live state. Used by TandemTrainer (trainer-status.json, trainer.sock).
#pragma once

#include <filesystem>
#include <string_view>

#include "common/posix/socket_server.h"

namespace tandem::posix {

class StatusPublication {
 public:
  // Creates the socket first, so a squatter makes this throw before anything is written.
  StatusPublication(const std::filesystem::path& file, const std::filesystem::path& socket,
                    SocketServer::Handler handler);
  // Stops the socket; the last file written stays (its state says stopped).
  ~StatusPublication() = default;
  StatusPublication(const StatusPublication&) = delete;
  StatusPublication& operator=(const StatusPublication&) = delete;

  // Replaces the file atomically.
  void write(std::string_view json);

 private:
  std::filesystem::path file_;
  SocketServer server_;
};

}  // namespace tandem::posix
