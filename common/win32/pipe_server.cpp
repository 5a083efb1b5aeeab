#include "common/win32/pipe_server.h"

#include "common/win32/service_sid.h"

#include "common/discovery/endpoint.h"
#include "common/discovery/protocol.h"
#include "common/log.h"
#include "common/win32/error.h"
#include "common/win32/pipe_io.h"
#include "common/win32/security.h"
#include "common/win32/strings.h"

namespace tandem::win32 {
namespace {

constexpr DWORD kBufferBytes = static_cast<DWORD>(discovery::kMaxMessageBytes);

[[noreturn]] void refuse_squatter(const std::string& path) {
  throw Error("another process already owns " + path +
              "; refusing to serve behind it (stop that process or check who created the pipe)");
}

// Wine lets a second creator through despite FILE_FLAG_FIRST_PIPE_INSTANCE, so look first: for
// a name nobody serves, WaitNamedPipeW fails with ERROR_FILE_NOT_FOUND; any other answer (an
// instance free, or all busy) means someone does.
void check_no_owner(const std::string& path) {
  if (WaitNamedPipeW(widen(path).c_str(), 1)) refuse_squatter(path);
  DWORD error = GetLastError();
  if (error != ERROR_FILE_NOT_FOUND) refuse_squatter(path);
}

Pipe create_instance(const std::string& path, bool first, int instances,
                     SecurityAttributes& security) {
  DWORD open_mode = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED;
  if (first) open_mode |= FILE_FLAG_FIRST_PIPE_INSTANCE;
  FileHandle pipe(CreateNamedPipeW(
      widen(path).c_str(), open_mode,
      PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
      static_cast<DWORD>(instances), kBufferBytes, kBufferBytes, 0, security.get()));
  if (!pipe) {
    DWORD error = GetLastError();
    // Windows enforces FIRST_PIPE_INSTANCE: someone created the name between check and create.
    if (first && (error == ERROR_ACCESS_DENIED || error == ERROR_PIPE_BUSY)) {
      refuse_squatter(path);
    }
    throw_error("CreateNamedPipeW(" + path + ")", error);
  }
  // "PIPE_ACCESS_DUPLEX: equivalent to the server having GENERIC_READ and GENERIC_WRITE access".
  return Pipe(std::move(pipe), GENERIC_READ | GENERIC_WRITE, path);
}

}  // namespace

std::string PipeServer::sddl_for_service(std::string_view service_name) {
  return std::string(kDefaultSddl) + "(A;;GA;;;" + service_sid(service_name) + ")";
}

PipeServer::PipeServer(std::string_view name, const std::string& sddl, Handler handler,
                       int instances, std::chrono::milliseconds idle_timeout)
    : path_(pipe_path(name)),
      handler_(std::move(handler)),
      idle_ms_(static_cast<DWORD>(idle_timeout.count())) {
  if (instances < 1 || instances > PIPE_UNLIMITED_INSTANCES - 1) {
    throw Error("PipeServer(" + path_ + "): instances must be from 1 to 254, got " +
                std::to_string(instances));
  }
  check_no_owner(path_);
  SecurityAttributes security(sddl);
  for (int i = 0; i < instances; ++i) {
    pipes_.push_back(create_instance(path_, i == 0, instances, security));
  }
  try {
    for (auto& pipe : pipes_) threads_.emplace_back([this, p = &pipe] { serve(*p); });
  } catch (...) {
    stop();
    throw;
  }
  TLOG(info) << "serving " << path_ << " with " << instances << " instances";
}

PipeServer::~PipeServer() {
  stop();
}

void PipeServer::stop() {
  if (stopped_.exchange(true)) return;
  stop_source_.request_stop();  // sets stop_event_
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  pipes_.clear();
  TLOG(info) << "stopped serving " << path_;
}

void PipeServer::serve(const Pipe& pipe_handle) {
  const HANDLE pipe = pipe_handle.get();
  try {
    Overlapped overlapped;
    while (!stop_source_.stop_requested()) {
      DWORD start = ConnectNamedPipe(pipe, overlapped.get()) ? ERROR_SUCCESS : GetLastError();
      if (start != ERROR_PIPE_CONNECTED) {
        IoResult r = overlapped.finish(pipe, start, stop_event_.get(), INFINITE);
        if (r.end == IoEnd::stopped) break;
        // ERROR_NO_DATA: a client came and went before we looked; just listen again.
        if (r.end == IoEnd::failed && r.error != ERROR_NO_DATA) {
          throw_error("ConnectNamedPipe(" + path_ + ")", r.error);
        }
      }
      serve_client(pipe_handle, overlapped);
      // Discards anything the client did not read: by now it has closed, idled out or we stop.
      DisconnectNamedPipe(pipe);
    }
  } catch (const std::exception& e) {
    TLOG(error) << "pipe instance of " << path_ << " stopped serving: " << e.what();
  }
}

void PipeServer::serve_client(const Pipe& pipe, Overlapped& overlapped) {
  // Several requests may come on one connection; the client closing is the normal end. Waiting
  // for that close (rather than disconnecting after the answer) lets the client read it.
  for (;;) {
    MessageRead in =
        read_message(pipe, overlapped, stop_event_.get(), idle_ms_, discovery::kMaxMessageBytes);
    if (in.end == IoEnd::timed_out) {
      TLOG(debug) << path_ << ": dropped a client idle for " << idle_ms_ << " ms";
      return;
    }
    if (in.end == IoEnd::failed && in.error != ERROR_BROKEN_PIPE &&
        in.error != ERROR_PIPE_NOT_CONNECTED) {
      TLOG(warning) << "ReadFile(" << path_ << ") failed: " << error_text(in.error);
    }
    if (in.end != IoEnd::done) return;

    std::string response =
        in.too_big ? discovery::encode_error(discovery::kBadRequest,
                                             "request is " + std::to_string(in.size) +
                                                 " bytes; the limit is " +
                                                 std::to_string(discovery::kMaxMessageBytes))
                   : answer(in.message);
    if (stop_source_.stop_requested()) return;
    IoResult out = write_message(pipe, overlapped, stop_event_.get(), idle_ms_, response);
    if (out.end == IoEnd::failed && out.error != ERROR_BROKEN_PIPE && out.error != ERROR_NO_DATA) {
      TLOG(warning) << "WriteFile(" << path_ << ") failed: " << error_text(out.error);
    }
    if (out.end != IoEnd::done) return;
  }
}

std::string PipeServer::answer(std::string_view request) {
  try {
    return handler_(request, stop_source_.get_token());
  } catch (const std::exception& e) {
    TLOG(error) << path_ << ": request handler failed: " << e.what();
    return discovery::encode_error(discovery::kInternal, e.what());
  }
}

}  // namespace tandem::win32
