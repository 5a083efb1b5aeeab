#include "common/http_client.h"

#include <httplib.h>

#include <cctype>

namespace tandem {

struct HttpClient::Impl {
  explicit Impl(const std::string& url) : client(url) {}
  httplib::Client client;
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

namespace {

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

HttpResult HttpClient::get(const std::string& path) {
  return convert(impl_->client.Get(path), "GET " + base_url_ + path);
}

HttpResult HttpClient::post_json(const std::string& path, const std::string& body) {
  return convert(impl_->client.Post(path, body, "application/json"), "POST " + base_url_ + path);
}

}  // namespace tandem
