// A message-mode named pipe server (docs/architecture.md#named-pipe-protocol): one JSON request
// per message, one response back, several instances each served by its own thread, refusing to
// start when another process already owns the name.
#pragma once

#include <windows.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/win32/handle.h"
#include "common/win32/pipe_io.h"
#include "common/win32/stop_event.h"

namespace tandem::win32 {

class PipeServer {
 public:
  // Answers one request. Called from several pipe threads at once. A handler that blocks (a
  // `wait`) must return soon after `stop` is requested: PipeServer::stop() requests it and then
  // joins the threads. discovery::handle_request(state, message, stop) does this, since
  // PublicationState::wait_until_ready wakes on the stop token. An exception becomes an
  // `internal` error response.
  using Handler = std::function<std::string(std::string_view request, std::stop_token stop)>;

  // The LLM pipe's DACL: SYSTEM and Administrators full, Authenticated Users read/write.
  static constexpr const char* kDefaultSddl = "D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GRGW;;;AU)";
  // kDefaultSddl plus full control for the service's own SID, which creates the instances when
  // the service runs under its virtual account (NT SERVICE\<name>).
  static std::string sddl_for_service(std::string_view service_name);
  static constexpr int kDefaultInstances = 4;
  // A connected client that sends nothing (or never reads) for this long is dropped.
  static constexpr std::chrono::milliseconds kDefaultIdleTimeout{10000};

  // `name` is "tandem-llm" or "\\.\pipe\tandem-llm". Throws tandem::Error if another process
  // already has a pipe of this name (a squatter: we never serve behind it), Win32Error if the
  // pipe cannot be created. Serving starts before the constructor returns.
  PipeServer(std::string_view name, const std::string& sddl, Handler handler,
             int instances = kDefaultInstances,
             std::chrono::milliseconds idle_timeout = kDefaultIdleTimeout);
  ~PipeServer();
  PipeServer(const PipeServer&) = delete;
  PipeServer& operator=(const PipeServer&) = delete;

  // Stops every instance, even mid-read, mid-write or inside a handler that honours the stop
  // token; returns when all threads have ended. Idempotent.
  void stop();

  const std::string& path() const { return path_; }

 private:
  void serve(const Pipe& pipe);
  void serve_client(const Pipe& pipe, Overlapped& overlapped);
  std::string answer(std::string_view request);

  std::string path_;
  Handler handler_;
  DWORD idle_ms_;
  std::stop_source stop_source_;
  StopEvent stop_event_{stop_source_.get_token()};  // set by stop_source_'s request
  std::atomic<bool> stopped_{false};
  std::vector<Pipe> pipes_;
  std::vector<std::thread> threads_;
};

}  // namespace tandem::win32
