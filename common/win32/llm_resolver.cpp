#include "common/win32/llm_resolver.h"

#include <windows.h>

#include <vector>

#include "common/discovery/health_check.h"
#include "common/discovery/protocol.h"
#include "common/log.h"
#include "common/win32/error.h"
#include "common/win32/handle.h"
#include "common/win32/pipe_client.h"
#include "common/win32/registry.h"
#include "common/win32/registry_publication.h"
#include "common/win32/registry_watch.h"
#include "common/win32/scm.h"
#include "common/win32/stop_event.h"
#include "common/win32/waits.h"

namespace tandem::win32 {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kServiceName = "TandemLlm";

std::optional<std::string> check_pipe(const discovery::Endpoint& published) {
  PipeCall call;
  try {
    call = call_pipe(published.pipe_name, R"({"v":1,"op":"resolve"})", 2s);
  } catch (const Error& e) {
    return std::string("pipe: ") + e.what();
  }
  if (call.server_pid != published.pid) {
    return "pipe " + published.pipe_name + " is served by pid " + std::to_string(call.server_pid) +
           ", not TandemLlm's pid " + std::to_string(published.pid) + ": not trusted";
  }
  auto response = discovery::decode_response(call.response);
  if (!response.ok())
    return "pipe answered " + response.error->code + ": " + response.error->message;
  if (response.endpoint->instance_id != published.instance_id ||
      response.endpoint->port != published.port) {
    return "pipe instance " + response.endpoint->instance_id + " does not match the registry's " +
           published.instance_id;
  }
  return std::nullopt;
}

}  // namespace

std::optional<ServiceStatusInfo> LlmResolver::query_service() {
  for (;;) {
    const bool kept = service_.has_value();
    try {
      if (!scm_) scm_ = ScManager::open();
      if (!service_) service_ = Service::try_open(*scm_, kServiceName, SERVICE_QUERY_STATUS);
      if (!service_) return std::nullopt;
      auto status = service_->query();
      // Kept only while it runs: a deleted service lingers as long as a handle to it is open,
      // and an uninstall or reinstall must not wait for this one.
      if (status.state != ServiceRunState::running) service_.reset();
      return status;
    } catch (const Error&) {
      // A kept handle may have gone stale (the SCM restarted, the service was deleted): once
      // more with fresh ones; a failure with fresh ones is the answer.
      service_.reset();
      scm_.reset();
      if (!kept) throw;
    }
  }
}

std::optional<std::string> LlmResolver::check_scm(const discovery::Endpoint& published) {
  auto status = query_service();
  if (!status) return "service TandemLlm is not installed";
  if (status->state != ServiceRunState::running) {
    return "service TandemLlm is " + std::string(to_string(status->state)) +
           " (the registry still says ready: a stale publication)";
  }
  if (status->pid != published.pid) {
    return "stale publication: registry Pid " + std::to_string(published.pid) +
           " but the SCM runs TandemLlm as pid " + std::to_string(status->pid);
  }
  return std::nullopt;
}

// Wine's SCM keeps a killed service RUNNING with its dead PID (Windows' notices the end), so the
// SCM's word is not enough: the process itself must still be there.
std::optional<std::string> LlmResolver::check_process(const discovery::Endpoint& published) {
  const std::string pid = std::to_string(published.pid);
  if (!process_ || process_pid_ != published.pid) {
    process_ = Process();
    process_pid_ = 0;
    DWORD error = ERROR_SUCCESS;
    Process process = Process::open(published.pid, SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION,
                                    "server process " + pid, error);
    if (!process) {
      // A process this account may not open (a user's tray, a service of another account)
      // exists: the pipe and /health checks that follow still prove it is the server.
      if (error == ERROR_ACCESS_DENIED) return std::nullopt;
      if (error == ERROR_INVALID_PARAMETER) {
        return "server process " + pid +
               " has ended (the registry and the SCM still name it: a stale publication)";
      }
      return "cannot open server process " + pid + ": " + error_text(error);
    }
    process_ = std::move(process);
    process_pid_ = published.pid;
  }
  if (process_.wait(0)) {
    return "server process " + pid + " has ended (exit code " +
           std::to_string(process_.exit_code()) +
           "; the registry and the SCM still name it: a stale publication)";
  }
  return std::nullopt;
}

std::optional<discovery::Endpoint> LlmResolver::resolve(std::string& why) {
  auto published = read_publication(kLlmServerKey);
  if (!published) {
    why = "TandemLlm has not published an endpoint (HKLM\\" + std::string(kLlmServerKey) +
          " is missing)";
    return std::nullopt;
  }
  if (published->state != discovery::State::ready) {
    why = "TandemLlm is " + std::string(discovery::state_name(published->state));
    return std::nullopt;
  }
  auto failed = check_scm(*published);
  if (!failed) failed = check_process(*published);
  if (!failed) failed = check_pipe(*published);
  if (!failed) failed = discovery::check_health(*published);
  if (failed) {
    why = *failed;
    return std::nullopt;
  }
  return published;
}

discovery::Endpoint LlmResolver::wait_ready(std::chrono::milliseconds timeout,
                                            std::stop_token stop) {
  const StopEvent stop_event(stop);
  const auto deadline = Clock::now() + timeout;
  std::string why;
  std::string said;  // the last reason logged: a change under a watched key that does not
                     // change the answer (SOFTWARE changes often) is not worth a line
  bool pipe_said_ready = false;
  for (;;) {
    RegistryWatch watch(kLlmServerKey);  // armed before looking: no change slips in between
    if (auto endpoint = resolve(why)) return *endpoint;
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (remaining <= 0ms) {
      throw Error("TandemLlm was not ready within " + std::to_string(timeout.count()) +
                  " ms: " + why);
    }
    if (why != said) {
      TLOG(info) << "waiting up to " << remaining.count() << " ms for TandemLlm: " << why;
      said = why;
    }
    if (!pipe_said_ready) {
      // The server's own wait: answers the moment it turns ready.
      try {
        std::string request =
            R"({"v":1,"op":"wait","timeout_ms":)" + std::to_string(remaining.count()) + "}";
        auto call = call_pipe("tandem-llm", request, remaining + 2s, stop_event.get());
        if (discovery::decode_response(call.response).ok()) {
          pipe_said_ready = true;
          continue;
        }
      } catch (const StopRequested&) {
        throw;
      } catch (const Error&) {
        // No pipe (server not running yet): fall through to the registry.
      }
    }
    // Ready by the pipe yet not verified, or no pipe at all: the next registry change (a restart
    // writes State) or the end of the published server's process is the next moment anything
    // can differ. A process that has already ended is no reason to wake again.
    std::vector<HANDLE> handles = {stop_event.get(), watch.event()};
    if (process_ && !process_.wait(0)) {
      handles.push_back(process_.get());
    }
    if (wait_any(handles, remaining, "registry change") == 0u) throw StopRequested();
    pipe_said_ready = false;
  }
}

}  // namespace tandem::win32
