#include "service/api/guards.h"

#include <algorithm>
#include <cctype>

namespace tandem::api {
namespace {

bool is_port(std::string_view s) {
  return !s.empty() && s.size() <= 5 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

bool host_allowed(const std::optional<std::string>& host) {
  if (!host || host->empty()) return true;  // HTTP/1.0 clients; browsers always send one
  std::string_view h = *host;
  std::string_view name = h;
  std::string_view port;
  if (h.front() == '[') {
    auto close = h.find(']');
    if (close == std::string_view::npos) return false;
    name = h.substr(0, close + 1);
    port = h.substr(close + 1);
  } else if (auto colon = h.find(':'); colon != std::string_view::npos) {
    name = h.substr(0, colon);
    port = h.substr(colon);
  }
  if (!port.empty() && (port.front() != ':' || !is_port(port.substr(1)))) return false;
  const std::string n = lower(name);
  return n == "127.0.0.1" || n == "[::1]" || n == "localhost";
}

bool origin_allowed(const std::optional<std::string>& origin,
                    const std::vector<std::string>& allowed) {
  if (!origin) return true;
  return std::any_of(allowed.begin(), allowed.end(),
                     [&](const std::string& a) { return a == "*" || a == *origin; });
}

bool is_json_media_type(const std::optional<std::string>& content_type) {
  if (!content_type) return false;
  std::string_view type = *content_type;
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  return lower(type) == "application/json";
}

std::optional<std::string> presented_key(const http::Request& request) {
  if (auto auth = request.header("Authorization")) {
    std::string_view v = *auth;
    if (v.size() > 7 && lower(v.substr(0, 7)) == "bearer ") {
      v.remove_prefix(7);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
      return std::string(v);
    }
  }
  return request.header("X-Api-Key");
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
    const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
    diff |= static_cast<unsigned>(x ^ y);
  }
  return diff == 0;
}

std::string key_hint(std::string_view key) {
  // Four characters of a short key would give away too much of it.
  if (key.size() < 12) return "…";
  return "…" + std::string(key.substr(key.size() - 4));
}

}  // namespace tandem::api
