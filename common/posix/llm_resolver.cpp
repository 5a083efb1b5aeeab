#include "common/posix/llm_resolver.h"

#include <signal.h>

#include <algorithm>
#include <cerrno>

#include "common/discovery/health_check.h"
#include "common/discovery/protocol.h"
#include "common/files.h"
#include "common/log.h"
#include "common/posix/dir_watch.h"
#include "common/posix/runtime_dir.h"
#include "common/posix/runtime_file.h"
#include "common/posix/stop_fd.h"
#include "common/posix/unix_socket.h"

namespace tandem::posix {
namespace {

using namespace std::chrono_literals;

std::optional<std::string> check_alive(const discovery::Endpoint& published,
                                       const std::string& file) {
  if (::kill(static_cast<pid_t>(published.pid), 0) == 0 || errno == EPERM) return std::nullopt;
  return "stale publication: " + file + " names pid " + std::to_string(published.pid) +
         ", which is not running (a killed server)";
}

std::optional<std::string> check_socket(const discovery::Endpoint& published,
                                        const std::filesystem::path& socket) {
  SocketCall call;
  try {
    call = call_socket(socket, discovery::encode_request({discovery::Op::resolve, {}}), 2s);
  } catch (const Error& e) {
    return std::string("socket: ") + e.what();
  }
  if (static_cast<std::uint32_t>(call.server.pid) != published.pid) {
    return path_utf8(socket) + " is served by pid " + std::to_string(call.server.pid) +
           ", not TandemLlm's pid " + std::to_string(published.pid) + ": not trusted";
  }
  discovery::Response response;
  try {
    response = discovery::decode_response(call.response);
  } catch (const Error& e) {
    return path_utf8(socket) + " answered outside the protocol: " + e.what();
  }
  if (!response.ok()) {
    return "socket answered " + response.error->code + ": " + response.error->message;
  }
  if (response.endpoint->instance_id != published.instance_id ||
      response.endpoint->port != published.port) {
    return "socket instance " + response.endpoint->instance_id + " (port " +
           std::to_string(response.endpoint->port) + ") does not match the file's " +
           published.instance_id + " (port " + std::to_string(published.port) + ")";
  }
  return std::nullopt;
}

}  // namespace

LlmResolver::LlmResolver(std::filesystem::path runtime_dir)
    : runtime_dir_(runtime_dir.empty() ? posix::runtime_dir() : std::move(runtime_dir)),
      file_(runtime_dir_ / kLlmPublicationFile),
      socket_(runtime_dir_ / kLlmSocket) {}

std::optional<discovery::Endpoint> LlmResolver::resolve(std::string& why) {
  const std::string file = path_utf8(file_);
  std::optional<discovery::Endpoint> published;
  try {
    published = read_runtime_file(file_);
  } catch (const Error& e) {
    why = e.what();
    return std::nullopt;
  }
  if (!published) {
    why = "TandemLlm has not published an endpoint (" + file + " is missing)";
    return std::nullopt;
  }
  if (published->state != discovery::State::ready) {
    why =
        "TandemLlm is " + std::string(discovery::state_name(published->state)) + " (" + file + ")";
    return std::nullopt;
  }
  if (auto failed = check_alive(*published, file)) {
    why = *failed;
    return std::nullopt;
  }
  if (auto failed = check_socket(*published, socket_)) {
    why = *failed;
    return std::nullopt;
  }
  if (auto failed = discovery::check_health(*published)) {
    why = *failed;
    return std::nullopt;
  }
  return published;
}

discovery::Endpoint LlmResolver::wait_ready(std::chrono::milliseconds timeout,
                                            std::stop_token stop) {
  const StopFd stop_fd(stop);
  const auto deadline = Clock::now() + timeout;
  std::string why;
  std::string said;  // the last reason logged
  bool socket_said_ready = false;
  for (;;) {
    if (stop.stop_requested()) throw StopRequested();
    DirWatch watch(runtime_dir_);  // armed before looking, so no change slips in between
    if (auto endpoint = resolve(why)) return *endpoint;
    const auto remaining =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (remaining <= 0ms) {
      throw Error("TandemLlm was not ready within " + std::to_string(timeout.count()) +
                  " ms: " + why);
    }
    if (why != said) {
      TLOG(info) << "waiting up to " << remaining.count() << " ms for TandemLlm: " << why;
      said = why;
    }
    if (!socket_said_ready) {
      // The server's own wait: answers the moment it turns ready.
      try {
        const auto request = discovery::encode_request(
            {discovery::Op::wait, std::min(remaining, discovery::kMaxWait)});
        auto call = call_socket(socket_, request, remaining + 2s, stop_fd.get());
        if (discovery::decode_response(call.response).ok()) {
          socket_said_ready = true;
          continue;
        }
      } catch (const StopRequested&) {
        throw;
      } catch (const Error&) {
        // No socket (no server yet) or a stale one: the runtime folder tells when that changes.
      }
    }
    // Ready by the socket yet not verified, or no socket at all: the next change in the runtime
    // folder (a restart writes llm-server.json) is the next moment anything can differ.
    watch.wait(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()),
               stop);
    socket_said_ready = false;
  }
}

}  // namespace tandem::posix
