#include "common/http_client.h"

#include "common/peer_closed.h"

#include <httplib.h>

#include <cctype>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

namespace tandem {

namespace {

// Runs cpp-httplib requests on threads that live until the process ends. cpp-httplib keeps
// thread_local objects with destructors (a std::regex for the status line, among others); with
// MinGW g++ 12 the emutls block holding them is freed before their destructors run, so any thread
// that made a request corrupts the heap when it exits (issue #7). The caller's thread may exit;
// these never do. One thread per concurrent request: a new one starts only when none is idle.
class RequestThreads {
 public:
  // Never destroyed: a static destructor would run while its threads may still be waiting.
  static RequestThreads& instance() {
    static auto* threads = new RequestThreads;
    return *threads;
  }

  // Runs `request` on one of the threads and returns its result or rethrows its exception. The
  // wait needs no bound of its own: the request is bounded by the client's connect, read and write
  // timeouts.
  httplib::Result run(const std::function<httplib::Result()>& request) {
    httplib::Result result;
    std::packaged_task<void()> job([&] { result = request(); });
    auto done = job.get_future();
    {
      std::lock_guard lock(mutex_);
      // Started before the job is queued: a failed start leaves no job pointing into this frame.
      if (queue_.size() >= idle_) std::thread([this] { serve(); }).detach();
      queue_.push_back(std::move(job));
    }
    ready_.notify_one();
    done.get();
    return result;
  }

 private:
  RequestThreads() = default;

  [[noreturn]] void serve() {
    for (;;) {
      std::packaged_task<void()> job;
      {
        std::unique_lock lock(mutex_);
        ++idle_;
        ready_.wait(lock, [&] { return !queue_.empty(); });
        --idle_;
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      job();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::packaged_task<void()>> queue_;
  std::size_t idle_ = 0;
};

HttpResult convert(const httplib::Result& r, const std::string& what) {
  if (!r) throw ConnectionError(what + ": " + httplib::to_string(r.error()));
  HttpResult out;
  out.status = r->status;
  out.body = r->body;
  for (const auto& [name, value] : r->headers) {
    std::string lower = name;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[lower] = value;
  }
  return out;
}

}  // namespace

struct HttpClient::Impl {
  explicit Impl(const std::string& url) : client(url) {}
  httplib::Client client;

  // Throws ConnectionClosed when the server ended the kept-alive connection on its own, before
  // cpp-httplib would open another to the same port. A connection the client closed itself (the
  // server answered "Connection: close", as it does after errors) is reopened as usual.
  void check_connection(const std::string& what) {
    if (client.is_socket_open() && peer_closed(static_cast<std::uintptr_t>(client.socket()))) {
      client.stop();
      throw ConnectionClosed(what + ": the server closed the connection before the request");
    }
  }
};

HttpClient::HttpClient(std::string base_url, HttpClientOptions options)
    : impl_(std::make_unique<Impl>(base_url)), base_url_(std::move(base_url)) {
  auto& c = impl_->client;
  c.set_connection_timeout(options.connect_timeout);
  c.set_read_timeout(options.read_timeout);
  c.set_write_timeout(options.read_timeout);
  c.set_keep_alive(true);
  if (!options.api_key.empty()) c.set_bearer_token_auth(options.api_key);
}

HttpClient::~HttpClient() = default;

HttpResult HttpClient::get(const std::string& path) {
  const std::string what = "GET " + base_url_ + path;
  impl_->check_connection(what);
  auto& c = impl_->client;
  return convert(RequestThreads::instance().run([&] { return c.Get(path); }), what);
}

HttpResult HttpClient::post_json(const std::string& path, const std::string& body) {
  const std::string what = "POST " + base_url_ + path;
  impl_->check_connection(what);
  auto& c = impl_->client;
  return convert(
      RequestThreads::instance().run([&] { return c.Post(path, body, "application/json"); }), what);
}

}  // namespace tandem
