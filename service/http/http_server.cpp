// The only file that includes <httplib.h>. Two httplib::Server objects, one per loopback address,
// share one worker pool and one Handler; each runs its accept loop on its own thread.
#include "service/http/http_server.h"

#include <httplib.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <future>
#include <iomanip>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include "common/error.h"
#include "common/log.h"
#include "service/http/connection.h"
#include "service/http/connection_gate.h"
#include "service/http/error_body.h"
#ifdef _WIN32
#include "common/win32/error.h"
#endif

namespace tandem::http {

namespace {

using std::chrono::milliseconds;

// How long a worker reads a request itself before handing the connection to the gate.
constexpr milliseconds kInlineWait{20};

// Marks an httplib response as made by our Handler, so the error handler leaves it alone.
constexpr const char* kFromHandler = "tandem.from_handler";
// Marks a streamed response: it is logged when the stream ends, not when its headers go out.
constexpr const char* kStreamed = "tandem.streamed";

bool same_name(std::string_view a, std::string_view b) {
  CaseInsensitiveLess less;
  return !less(a, b) && !less(b, a);
}

// In use, or reserved (Windows' excluded port ranges answer "access denied"): another port may do.
bool port_specific(int code) {
#ifdef _WIN32
  return code == WSAEADDRINUSE || code == WSAEACCES;
#else
  return code == EADDRINUSE || code == EACCES;
#endif
}

std::string socket_error_text(int code) {
#ifdef _WIN32
  if (code == WSAEADDRINUSE) return "address in use";
  if (code == WSAEACCES) return "access denied";
  return win32::error_text(static_cast<std::uint32_t>(code)) + " (error " + std::to_string(code) +
         ")";
#else
  if (code == EADDRINUSE) return "address in use";
  if (code == EACCES) return "access denied";
  return std::system_category().message(code) + " (errno " + std::to_string(code) + ")";
#endif
}

std::string milliseconds_since(Clock::time_point start) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(1)
      << std::chrono::duration<double, std::milli>(Clock::now() - start).count() << " ms";
  return out.str();
}

// Errors that httplib answers itself, before or instead of our Handler, in the OpenAI shape.
Response transport_error(const httplib::Request& req, int status, std::size_t max_body_bytes) {
  const std::string limit = std::to_string(max_body_bytes);
  switch (status) {
    case 413:
      if (req.has_header("Content-Length")) {
        return error_response(status,
                              "request body is " + req.get_header_value("Content-Length") +
                                  " bytes; the limit is " + limit,
                              "body_too_large");
      }
      return error_response(status, "request body is larger than the limit of " + limit + " bytes",
                            "body_too_large");
    case 404:
      return error_response(status, "no route for " + req.path, "not_found");
    case 414:
      return error_response(status, "request target is too long", "uri_too_long");
    case 415:
      return error_response(status, "unsupported Content-Encoding or Content-Type",
                            "unsupported_media_type");
    case 400:
      return error_response(status, "malformed or unsupported HTTP request", "bad_request");
    default:
      return error_response(status, httplib::status_message(status),
                            status >= 500 ? "internal_error" : "bad_request");
  }
}

// The accept loops hand connections to one pool that outlives them: HttpServer::stop() shuts
// the pool down itself, after both loops have ended. `accepted` runs first, on the accept loop.
class SharedQueue final : public httplib::TaskQueue {
 public:
  SharedQueue(std::shared_ptr<httplib::ThreadPool> pool, std::function<void()> accepted)
      : pool_(std::move(pool)), accepted_(std::move(accepted)) {}
  bool enqueue(std::function<void()> fn) override {
    accepted_();
    return pool_->enqueue(std::move(fn));
  }
  void shutdown() override {}

 private:
  std::shared_ptr<httplib::ThreadPool> pool_;
  std::function<void()> accepted_;
};

// httplib reads each request through a stream of its own that dies with the request, taking
// any bytes it read past it (a pipelined next request) along; and it lets a client that sends a
// byte at a time hold a worker for ever. This stream reads from the Connection instead, whose
// buffer outlives the request, and never waits past the request's deadline.
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(Connection& c, milliseconds read_timeout, milliseconds write_timeout)
      : c_(c), read_timeout_(read_timeout), write_timeout_(write_timeout) {}
  ~ConnectionStream() override { c_.pending.erase(0, offset_); }
  ConnectionStream(const ConnectionStream&) = delete;
  ConnectionStream& operator=(const ConnectionStream&) = delete;

  bool is_readable() const override { return offset_ < c_.pending.size(); }
  bool wait_readable() const override {
    return is_readable() || net::wait_readable(c_.socket, read_wait()) > 0;
  }
  bool wait_writable() const override { return net::wait_writable(c_.socket, write_timeout_) > 0; }
  bool is_peer_alive() const override {
    if (net::wait_readable(c_.socket, milliseconds(0)) == 0) return true;
    char byte;
    return net::receive(c_.socket, &byte, 1, /*peek=*/true) > 0;
  }

  ssize_t read(char* ptr, size_t size) override {
    if (is_readable()) {
      const std::size_t n = std::min(size, c_.pending.size() - offset_);
      std::copy_n(c_.pending.data() + offset_, n, ptr);
      offset_ += n;
      return static_cast<ssize_t>(n);
    }
    if (net::wait_readable(c_.socket, read_wait()) <= 0) {
      error_ = httplib::Error::Timeout;
      return -1;
    }
    const long n = net::receive(c_.socket, ptr, size);
    if (n == 0) error_ = httplib::Error::ConnectionClosed;
    if (n < 0) error_ = httplib::Error::Read;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    if (!wait_writable()) return -1;
    return static_cast<ssize_t>(net::send_some(c_.socket, ptr, size));
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = c_.remote_address;
    port = c_.remote_port;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = c_.local_address;
    port = c_.local_port;
  }
  socket_t socket() const override { return c_.socket; }
  time_t duration() const override {
    return static_cast<time_t>(
        std::chrono::duration_cast<milliseconds>(Clock::now() - start_).count());
  }
  const char* buffered_data(size_t& size) const override {
    size = c_.pending.size() - offset_;
    return size ? c_.pending.data() + offset_ : nullptr;
  }
  void consume_buffered(size_t size) override { offset_ += size; }

 private:
  // Each wait for the client is bounded by the read timeout and by what is left of the
  // request deadline, whichever ends first.
  milliseconds read_wait() const {
    const auto left = c_.request_deadline == Clock::time_point::max()
                          ? read_timeout_
                          : std::chrono::ceil<milliseconds>(c_.request_deadline - Clock::now());
    return std::clamp(left, milliseconds(0), read_timeout_);
  }

  Connection& c_;
  milliseconds read_timeout_;
  milliseconds write_timeout_;
  std::size_t offset_ = 0;
  Clock::time_point start_ = Clock::now();
};

// httplib::Server with its per-connection loop replaced: an accepted socket goes to
// `accepted` (which parks it in the ConnectionGate), and serve_one() runs one request that has
// arrived. process_and_close_socket() is httplib's private virtual hook for exactly this
// (its SSLServer overrides it the same way).
class ListenerServer final : public httplib::Server {
 public:
  std::function<void(socket_t)> accepted;

  bool serve_one(httplib::Stream& stream, const Connection& c, bool close_connection,
                 bool& connection_closed) {
    return serve_guarded([&] {
      return process_request(stream, c.remote_address, c.remote_port, c.local_address, c.local_port,
                             close_connection, connection_closed, nullptr);
    });
  }

 private:
  bool process_and_close_socket(socket_t sock) override {
    accepted(sock);
    return true;
  }
};

}  // namespace

struct HttpServer::Impl {
  struct Listener {
    const char* address = nullptr;
    int family = AF_UNSPEC;
    ListenerServer server;
    bool binding = false;      // error logger: record bind/listen failures, do not log them
    int bind_error = 0;        // socket error of the failed bind() or listen()
    std::string option_error;  // a socket option that could not be set
    std::thread thread;
    std::atomic<bool> closing{false};  // the accept loop closes its socket at the next accept
  };

  Impl(ServerOptions o, Handler h) : options(o), handler(std::move(h)) {
    for (std::size_t i = 0; i < listeners.size(); ++i) {
      auto& l = listeners[i];
      l.address = i == 0 ? "127.0.0.1" : "::1";
      l.family = i == 0 ? AF_INET : AF_INET6;
      configure(l);
      l.server.accepted = [this, i](socket_t sock) { accept(i, sock); };
    }
  }

  void configure(Listener& l);
  std::optional<std::string> bind(Listener& l, std::uint16_t port);
  void release_all();  // closes the listening sockets and ends their accept loops
  void close_listener(Listener& l);
  void dispatch(const httplib::Request& in, std::string body, httplib::Response& out);
  void to_httplib(const httplib::Request& in, Response res, httplib::Response& out);
  bool stream_cut_by_stop() const;
  enum class Arrival { ready, later, gone };
  void accept(std::size_t listener, socket_t sock);
  Arrival read_ahead(Connection& c);
  void serve(std::shared_ptr<Connection> c);
  GateOptions gate_options() const;

  ServerOptions options;
  Handler handler;
  std::array<Listener, 2> listeners{};
  std::shared_ptr<httplib::ThreadPool> pool;
  std::unique_ptr<ConnectionGate> gate;
  std::atomic<std::uint16_t> port{0};
  std::atomic<bool> stopping{false};
  std::atomic<Clock::time_point> stop_deadline{Clock::time_point::max()};
  std::atomic<int> streams_in_flight{0};
  std::mutex lifecycle;  // listen/start/stop
};

void HttpServer::Impl::configure(Listener& l) {
  auto& s = l.server;
  s.set_address_family(l.family);
  s.set_ipv6_v6only(true);
  s.set_tcp_nodelay(true);
  // httplib's default sets SO_REUSEADDR on Windows, where a taken port then looks free, and
  // SO_REUSEPORT on Linux, where two processes may then share it: replace both.
  s.set_socket_options([&l](socket_t sock) {
#ifdef _WIN32
    if (!httplib::set_socket_opt(sock, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, 1)) {
      l.option_error = "setsockopt(SO_EXCLUSIVEADDRUSE): " + socket_error_text(net::last_error());
    }
#else
    // Linux never lets a second live listener share the address without SO_REUSEPORT; this only
    // lets a restart rebind over the TIME_WAIT connections of the previous run.
    if (!httplib::set_socket_opt(sock, SOL_SOCKET, SO_REUSEADDR, 1)) {
      l.option_error = "setsockopt(SO_REUSEADDR): " + socket_error_text(net::last_error());
    }
#endif
  });
  s.set_payload_max_length(options.max_body_bytes);
  s.set_read_timeout(options.read_timeout);
  s.set_write_timeout(options.write_timeout);
  s.set_keep_alive_max_count(std::max<std::size_t>(options.keep_alive_max_count, 1));
  s.set_keep_alive_timeout(static_cast<time_t>(options.keep_alive_timeout.count()));
  // The accept loop waits for a connection without a timeout: httplib's Windows loop otherwise
  // wakes every millisecond (CPPHTTPLIB_IDLE_INTERVAL_USECOND), ~10 % of a core idle under Wine.
  // httplib polls for sec * 1000 + usec / 1000 ms, and a negative time waits for ever; on POSIX
  // it blocks in accept() (the interval is not positive). close_listener() wakes it.
  s.set_idle_interval(-1, 0);
  s.new_task_queue = [this, &l] {
    return new SharedQueue(pool, [&l] {
      if (l.closing) l.server.stop();  // on the loop's own thread: it ends after this connection
    });
  };

  s.set_error_logger([this, &l](const httplib::Error& e, const httplib::Request* req) {
    if (l.binding) {
      if (e == httplib::Error::BindIPAddress || e == httplib::Error::Listen) {
        l.bind_error = net::last_error();
      }
      return;
    }
    TLOG(debug) << "HTTP " << l.address << ": " << httplib::to_string(e)
                << (req ? " (" + req->method + " " + req->path + ")" : std::string());
  });
  s.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    if (res.user_data.has(kStreamed)) return;
    TLOG(info) << req.method << ' ' << req.path << ' ' << res.status << ' '
               << milliseconds_since(req.start_time_);
  });
  // Anything thrown outside the Handler's own try (dispatch catches those) still gets JSON.
  s.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr thrown) {
        std::string what = "unknown exception";
        try {
          std::rethrow_exception(thrown);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        TLOG(error) << req.method << ' ' << req.path << ": " << what;
        auto e = error_response(500, "internal error: " + what, "internal_error");
        res.status = e.status;
        res.set_content(std::move(e.body), e.content_type);
      });
  // A client that asks first ("Expect: 100-continue", as curl does for large bodies) learns of
  // the limit before it sends the body.
  s.set_expect_100_continue_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value_u64("Content-Length") > options.max_body_bytes) {
      res.status = 413;
      return 413;
    }
    return 100;
  });
  s.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (res.user_data.has(kFromHandler)) return httplib::Server::HandlerResponse::Unhandled;
    auto e = transport_error(req, res.status, options.max_body_bytes);
    res.set_content(std::move(e.body), e.content_type);
    return httplib::Server::HandlerResponse::Handled;
  });

  // Any path: the route table is the Handler's business. Bodies are read through a
  // ContentReader so that httplib neither parses them as forms nor caps form bodies at 8 KiB.
  const char* any = ".*";
  auto without_body = [this](const httplib::Request& in, httplib::Response& out) {
    dispatch(in, in.body, out);
  };
  auto with_body = [this](const httplib::Request& in, httplib::Response& out,
                          const httplib::ContentReader& reader) {
    if (in.is_multipart_form_data()) {
      to_httplib(in,
                 error_response(415, "multipart/form-data bodies are not supported; send JSON",
                                "unsupported_media_type"),
                 out);
      return;
    }
    // A body announced over the limit is refused before a byte of it is read: waiting for it
    // would let a client that never sends it hold a worker until the read timeout. The 413
    // closes the connection, so its unread body is never taken for a next request.
    if (in.get_header_value_u64("Content-Length") > options.max_body_bytes) {
      to_httplib(in, transport_error(in, 413, options.max_body_bytes), out);
      return;
    }
    std::string body;
    // On failure httplib has set 413 or 400 and answers through the error handler.
    if (!reader([&body](const char* data, std::size_t n) {
          body.append(data, n);
          return true;
        })) {
      return;
    }
    dispatch(in, std::move(body), out);
  };
  s.Get(any, without_body);
  s.Options(any, without_body);
  s.Post(any, with_body);
  s.Put(any, with_body);
  s.Patch(any, with_body);
  s.Delete(any, with_body);
}

void HttpServer::Impl::dispatch(const httplib::Request& in, std::string body,
                                httplib::Response& out) {
  Request req;
  req.method = in.method;
  req.path = in.path;
  req.body = std::move(body);
  req.remote_address = in.remote_addr;
  if (in.is_connection_closed) req.client_gone = in.is_connection_closed;
  for (const auto& [name, value] : in.headers) {
    auto [it, inserted] = req.headers.emplace(name, value);
    if (!inserted) it->second += ", " + value;  // repeated fields form one list (RFC 9110 5.3)
  }

  Response res;
  try {
    res = handler(req);
  } catch (const std::exception& e) {
    TLOG(error) << req.method << ' ' << req.path << ": handler failed: " << e.what();
    res = error_response(500, std::string("internal error: ") + e.what(), "internal_error");
  } catch (...) {
    TLOG(error) << req.method << ' ' << req.path
                << ": handler failed with a non-standard exception";
    res = error_response(500, "internal error", "internal_error");
  }
  to_httplib(in, std::move(res), out);
}

bool HttpServer::Impl::stream_cut_by_stop() const {
  return stopping.load() && Clock::now() >= stop_deadline.load();
}

GateOptions HttpServer::Impl::gate_options() const {
  GateOptions g;
  g.keep_alive_timeout = options.keep_alive_timeout;
  g.request_timeout = options.request_timeout;
  g.body_limit = std::min<std::size_t>(options.max_body_bytes, g.body_limit);
  return g;
}

// On a worker, from httplib's accept loop.
void HttpServer::Impl::accept(std::size_t listener, socket_t sock) {
  auto c = std::make_shared<Connection>(sock);
  c->listener = static_cast<int>(listener);
  net::peer_address(c->socket, c->remote_address, c->remote_port);
  net::local_address(c->socket, c->local_address, c->local_port);
  c->idle_deadline = Clock::now() + options.keep_alive_timeout;
  serve(std::move(c));
}

// Reads on the worker for a moment: most clients send their (next) request at once, and
// serving it here saves two thread hand-overs through the gate. Slower ones go to the gate.
HttpServer::Impl::Arrival HttpServer::Impl::read_ahead(Connection& c) {
  const GateOptions g = gate_options();
  const auto until = Clock::now() + kInlineWait;
  for (;;) {
    if (request_arrived(c.pending, g.body_limit, g.head_limit)) return Arrival::ready;
    const auto now = Clock::now();
    if (now >= until || now >= c.request_deadline) return Arrival::later;
    if (net::wait_readable(c.socket, std::chrono::ceil<milliseconds>(until - now)) <= 0) {
      return Arrival::later;
    }
    char chunk[16384];
    const long n = net::receive(c.socket, chunk, sizeof(chunk));
    if (n <= 0) return Arrival::gone;
    if (c.pending.empty()) c.request_deadline = Clock::now() + options.request_timeout;
    c.pending.append(chunk, static_cast<std::size_t>(n));
  }
}

// On a worker: answers the requests that arrive on `c` (more than one if pipelined), then
// parks it in the gate for the next, or closes it.
void HttpServer::Impl::serve(std::shared_ptr<Connection> c) {
  auto& server = listeners[static_cast<std::size_t>(c->listener)].server;
  const std::size_t max_count = std::max<std::size_t>(options.keep_alive_max_count, 1);
  for (;;) {
    if (stopping.load()) {
      c->close(/*drain=*/false);
      return;
    }
    const Arrival arrival = read_ahead(*c);
    if (arrival == Arrival::gone) {
      c->close(/*drain=*/false);
      return;
    }
    if (arrival == Arrival::later) break;
    const bool last = c->requests_served + 1 >= max_count;
    bool connection_closed = false;
    bool ok = false;
    {
      ConnectionStream stream(*c, options.read_timeout, options.write_timeout);
      ok = server.serve_one(stream, *c, last, connection_closed);
    }
    ++c->requests_served;
    if (!ok || connection_closed || last) {
      c->close(/*drain=*/true);
      return;
    }
    const auto now = Clock::now();
    c->idle_deadline = now + options.keep_alive_timeout;
    c->request_deadline =
        c->pending.empty() ? Clock::time_point::max() : now + options.request_timeout;
  }
  gate->park(std::move(c));
}

void HttpServer::Impl::to_httplib(const httplib::Request& in, Response res,
                                  httplib::Response& out) {
  out.user_data.set(kFromHandler, true);
  out.status = res.status;
  if (auto it = res.headers.find("Content-Type"); it != res.headers.end()) {
    res.content_type = it->second;
    res.headers.erase(it);
  }
  for (const auto& [name, value] : res.headers) {
    // Framing is ours: a handler's own length or coding would contradict what httplib sends.
    if (same_name(name, "Content-Length") || same_name(name, "Transfer-Encoding")) continue;
    out.set_header(name, value);
  }

  if (!res.stream || in.method == "HEAD") {
    if (!res.body.empty()) {
      out.set_content(std::move(res.body), res.content_type);
    } else if (!res.content_type.empty()) {
      out.set_header("Content-Type", res.content_type);
    }
    return;
  }

  out.user_data.set(kStreamed, true);
  ++streams_in_flight;
  auto provider = [this, stream = std::move(res.stream), method = in.method, path = in.path](
                      std::size_t, httplib::DataSink& sink) {
    bool gone = false;
    ChunkWriter write = [&](std::string_view chunk) {
      if (gone || stream_cut_by_stop() || !sink.is_writable()) {
        gone = true;
        return false;
      }
      // An empty chunk only asks whether the client is still there.
      if (!chunk.empty() && !sink.write(chunk.data(), chunk.size())) gone = true;
      return !gone;
    };
    try {
      stream(write);
    } catch (const std::exception& e) {
      TLOG(error) << method << ' ' << path << ": stream failed: " << e.what();
      return false;
    } catch (...) {
      TLOG(error) << method << ' ' << path << ": stream failed with a non-standard exception";
      return false;
    }
    if (gone) return false;
    sink.done();
    return true;
  };
  // httplib calls the releaser when the response is destroyed, whether or not it was sent.
  auto done = [this, method = in.method, path = in.path, status = res.status,
               start = in.start_time_](bool success) {
    --streams_in_flight;
    TLOG(info) << method << ' ' << path << ' ' << status << ' ' << milliseconds_since(start)
               << (success ? " (streamed)"
                           : " (stream ended early: client gone or server stopping)");
  };
  out.set_chunked_content_provider(res.content_type, std::move(provider), std::move(done));
}

// Binds one address; nullopt on success, else why. bind_error says whether another port may do.
std::optional<std::string> HttpServer::Impl::bind(Listener& l, std::uint16_t port_number) {
  l.bind_error = 0;
  l.option_error.clear();
  l.binding = true;
  bool bound = l.server.bind_to_port(l.address, port_number, AI_NUMERICHOST);
  l.binding = false;
  if (!l.option_error.empty()) {  // no port would do better: fatal, whatever bind() said
    if (bound) l.server.stop();
    l.bind_error = 0;
    return l.option_error;
  }
  if (bound) return std::nullopt;
  if (l.bind_error == 0) return std::string("cannot create a socket for this address");
  return socket_error_text(l.bind_error);
}

void HttpServer::Impl::release_all() {
  for (auto& l : listeners) close_listener(l);
}

// A running accept loop waits without a timeout, and closing its socket from another thread is
// not documented to wake a WSAPoll: a connection of our own wakes it, and it closes the socket
// itself (SharedQueue). Without that connection, closing here is all there is.
void HttpServer::Impl::close_listener(Listener& l) {
  if (l.thread.joinable()) {
    l.closing = true;
    if (!net::poke_listener(l.family, port.load())) l.server.stop();
    l.thread.join();
    l.closing = false;
  }
  l.server.stop();
}

HttpServer::HttpServer(ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(options, std::move(handler))) {}

HttpServer::~HttpServer() {
  try {
    stop();
  } catch (const std::exception& e) {
    TLOG(error) << "HTTP: stopping failed: " << e.what();
  }
}

std::uint16_t HttpServer::listen(std::uint16_t first_port, int range) {
  std::lock_guard lock(impl_->lifecycle);
  if (impl_->port != 0) {
    throw Error("HTTP server is already listening on port " + std::to_string(impl_->port));
  }
  if (range < 1) throw Error("HTTP port range must be at least 1, not " + std::to_string(range));
  if (first_port == 0) throw Error("HTTP port must be between 1 and 65535, not 0");
  const int last = static_cast<int>(std::min<long long>(1LL * first_port + range - 1, 65535));

  std::string tried;
  for (int p = first_port; p <= last; ++p) {
    const auto port_number = static_cast<std::uint16_t>(p);
    std::string reasons;
    for (auto& l : impl_->listeners) {
      auto failure = impl_->bind(l, port_number);
      if (!failure) continue;
      if (!port_specific(l.bind_error)) {
        impl_->release_all();
        throw Error("cannot listen on " + std::string(l.address) + " port " + std::to_string(p) +
                    ": " + *failure);
      }
      reasons += (reasons.empty() ? "" : ", ") + std::string(l.address) + ": " + *failure;
    }
    if (reasons.empty()) {
      impl_->port = port_number;
      TLOG(info) << "HTTP: bound 127.0.0.1:" << p << " and [::1]:" << p;
      return port_number;
    }
    impl_->release_all();
    TLOG(debug) << "HTTP: port " << p << " unavailable (" << reasons << ")";
    tried += (tried.empty() ? "" : ", ") + std::to_string(p) + " (" + reasons + ")";
  }
  throw Error("no free port in " + std::to_string(first_port) + "-" + std::to_string(last) + ": " +
              tried);
}

void HttpServer::start() {
  std::lock_guard lock(impl_->lifecycle);
  auto& impl = *impl_;
  if (impl.port == 0) throw Error("HTTP server cannot start: call listen() first");
  if (impl.pool) return;  // already serving
  impl.stopping = false;
  impl.stop_deadline = Clock::time_point::max();
  impl.pool =
      std::make_shared<httplib::ThreadPool>(std::max<std::size_t>(impl.options.worker_threads, 1));
  impl.gate =
      std::make_unique<ConnectionGate>(impl.gate_options(), [&impl](std::shared_ptr<Connection> c) {
        auto pool = impl.pool;
        if (!pool || !pool->enqueue([&impl, c] { impl.serve(c); })) c->close(false);
      });

  std::array<std::future<void>, 2> started;
  for (std::size_t i = 0; i < impl.listeners.size(); ++i) {
    auto& l = impl.listeners[i];
    auto promise = std::make_shared<std::promise<void>>();
    started[i] = promise->get_future();
    l.server.set_start_handler([promise] { promise->set_value(); });
    l.thread = std::thread([&l, promise] {
      bool ok = l.server.listen_after_bind();
      if (!ok) TLOG(error) << "HTTP: accept loop on " << l.address << " ended with an error";
      try {  // wakes start() if the loop ended before it ever ran
        promise->set_exception(std::make_exception_ptr(Error("accept loop ended at once")));
      } catch (const std::future_error&) {
      }
    });
  }

  for (std::size_t i = 0; i < started.size(); ++i) {
    std::string problem;
    if (started[i].wait_for(impl.options.start_timeout) != std::future_status::ready) {
      problem = "not accepting after " + std::to_string(impl.options.start_timeout.count()) + " ms";
    } else {
      try {
        started[i].get();
      } catch (const std::exception& e) {
        problem = e.what();
      }
    }
    if (!problem.empty()) {
      const std::string where =
          std::string(impl.listeners[i].address) + " port " + std::to_string(impl.port);
      impl.release_all();
      impl.gate->stop();
      impl.pool->shutdown();
      impl.pool.reset();
      impl.gate.reset();
      impl.port = 0;
      throw Error("HTTP server on " + where + " failed to start: " + problem);
    }
  }
  TLOG(info) << "HTTP: serving on 127.0.0.1:" << impl.port << " and [::1]:" << impl.port << " with "
             << impl.options.worker_threads << " worker threads";
}

void HttpServer::stop() {
  std::lock_guard lock(impl_->lifecycle);
  auto& impl = *impl_;
  if (impl.port == 0) return;
  impl.stop_deadline = Clock::now() + impl.options.stop_grace;
  impl.stopping = true;
  impl.release_all();
  if (impl.pool) {
    if (int n = impl.streams_in_flight.load(); n > 0) {
      TLOG(info) << "HTTP: waiting for " << n << " streamed response(s); cut after "
                 << impl.options.stop_grace.count() << " ms";
    }
    // Gate first: it hands connections to the pool, whose workers park them back in it (a
    // stopped gate closes them).
    impl.gate->stop();
    impl.pool->shutdown();
    impl.pool.reset();
    impl.gate.reset();
  }
  TLOG(info) << "HTTP: stopped serving port " << impl.port;
  impl.port = 0;
}

std::uint16_t HttpServer::port() const {
  return impl_->port;
}

}  // namespace tandem::http
