// Requests to tandem::api::Api and checks on its answers, for the API's tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "service/http/http_types.h"

namespace tandem::testing {

using nlohmann::json;

inline http::Request make(std::string method, std::string path, std::string body = "") {
  http::Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.body = std::move(body);
  r.headers["Host"] = "127.0.0.1:8030";
  r.remote_address = "127.0.0.1";
  return r;
}

inline http::Request post(std::string path, std::string body) {
  http::Request r = make("POST", std::move(path), std::move(body));
  r.headers["Content-Type"] = "application/json";
  return r;
}

inline json body_of(const http::Response& r) {
  EXPECT_FALSE(r.stream) << "a streamed response where a whole one was expected";
  return json::parse(r.body);
}

inline void expect_error(const http::Response& r, int status, const std::string& code) {
  EXPECT_EQ(r.status, status) << r.body;
  json b = body_of(r);
  ASSERT_TRUE(b.contains("error")) << r.body;
  EXPECT_EQ(b["error"]["code"], code) << r.body;
  EXPECT_TRUE(b["error"]["message"].is_string());
  EXPECT_TRUE(b["error"]["type"].is_string());
}

// Runs a streamed response; the writer reports the client gone after `accept` chunks.
struct Streamed {
  std::vector<std::string> chunks;
};
inline Streamed run(const http::Response& r, std::size_t accept = SIZE_MAX) {
  EXPECT_TRUE(r.stream) << "a whole response where a streamed one was expected";
  Streamed s;
  if (!r.stream) return s;
  r.stream([&](std::string_view chunk) {
    if (s.chunks.size() >= accept) return false;
    s.chunks.emplace_back(chunk);
    return true;
  });
  return s;
}

// The JSON of every event but the final [DONE] (which must be there when `done`).
inline std::vector<json> events(const Streamed& s, bool done = true) {
  std::vector<json> out;
  for (std::size_t i = 0; i < s.chunks.size(); ++i) {
    const std::string& c = s.chunks[i];
    EXPECT_EQ(c.rfind("data: ", 0), 0u) << c;
    EXPECT_EQ(c.substr(c.size() - 2), "\n\n") << c;
    std::string data = c.substr(6, c.size() - 8);
    if (data == "[DONE]") {
      EXPECT_EQ(i + 1, s.chunks.size()) << "[DONE] must be last";
      continue;
    }
    out.push_back(json::parse(data));
  }
  EXPECT_EQ(done, !s.chunks.empty() && s.chunks.back() == "data: [DONE]\n\n");
  return out;
}

}  // namespace tandem::testing
