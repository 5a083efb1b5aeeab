// More than 10,000 malformed and adversarial requests, generated from a fixed seed, sent over real
// loopback sockets to the real HTTP server and API (on a fake backend): every one must get a
// specific 4xx in the one JSON error shape, or — for protocol garbage — a closed connection.
// Never a 5xx, never silence past the server's timeouts; afterwards the server still answers and
// its memory is back near where it started.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "service/api/api.h"
#include "service/http/http_server.h"
#include "tests/support/fake_backend.h"
#include "tests/support/loopback_socket.h"
#include "tests/support/raw_http_client.h"
#include "tests/support/temp_dir.h"

#ifndef _WIN32
#include <unistd.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
// ASan keeps freed memory in a 256 MB quarantine by default, which would hide whether memory
// comes back after the flood; a small one keeps the RSS check meaningful.
extern "C" __attribute__((visibility("default"), used)) const char* __asan_default_options() {
  return "quarantine_size_mb=16";
}
#endif

namespace tandem::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr auto kReadTimeout = 1000ms;     // the server's: each wait for a large body's bytes
constexpr auto kRequestTimeout = 1500ms;  // the server's: a request must arrive whole within it
constexpr auto kKeepAliveTimeout = 2s;    // the server's: an idle connection is dropped after it
constexpr auto kClientBound = 6s;         // every client wait fails after this
constexpr std::size_t kMaxBody = 2 << 20;
constexpr std::size_t kMegabyte = 1 << 20;

// ---------------------------------------------------------------------------------------------
// The wire: raw bytes out, one reply (or the close) back, every wait bounded by SO_RCVTIMEO.

enum class Outcome { reply, closed, silent, garbled };

struct Answer {
  Outcome outcome = Outcome::closed;
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class Wire {
 public:
  Wire(const std::string& ip, std::uint16_t port) {
    auto s = try_connect(ip, port, kClientBound);
    if (!s) throw std::runtime_error("cannot connect to " + ip + " port " + std::to_string(port));
    socket_ = std::move(*s);
  }

  // False when the server has closed (or reset) the connection; never raises SIGPIPE.
  bool send(std::string_view data) {
#ifdef _WIN32
    constexpr int kFlags = 0;
#else
    constexpr int kFlags = MSG_NOSIGNAL;
#endif
    while (!data.empty()) {
      auto n = ::send(socket_.native(), data.data(), static_cast<int>(data.size()), kFlags);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  Answer read() {
    Answer a;
    std::size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (Got g = fill(); g != Got::data) {
        a.outcome = g == Got::timeout ? Outcome::silent
                    : buffer_.empty() ? Outcome::closed
                                      : Outcome::garbled;
        return a;
      }
    }
    const std::string head = buffer_.substr(0, head_end);
    buffer_.erase(0, head_end + 4);
    if (head.rfind("HTTP/1.", 0) != 0 || head.size() < 12) {
      a.outcome = Outcome::garbled;
      return a;
    }
    a.status = std::atoi(head.substr(9, 3).c_str());
    for (auto pos = head.find("\r\n"); pos != std::string::npos;) {
      auto end = head.find("\r\n", pos + 2);
      std::string field = head.substr(pos + 2, end == std::string::npos ? end : end - pos - 2);
      pos = end;
      auto colon = field.find(':');
      if (colon == std::string::npos) continue;
      std::string name = field.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      auto value = field.find_first_not_of(' ', colon + 1);
      a.headers[name] = value == std::string::npos ? "" : field.substr(value);
    }
    const std::string length = a.header("content-length");
    const std::size_t n = length.empty() ? 0 : std::stoul(length);
    while (buffer_.size() < n) {
      if (fill() != Got::data) {
        a.outcome = Outcome::garbled;
        return a;
      }
    }
    a.body = buffer_.substr(0, n);
    buffer_.erase(0, n);
    a.outcome = a.header("transfer-encoding").empty() ? Outcome::reply : Outcome::garbled;
    return a;
  }

  // Waits for the server to close the connection; false if it stays open past the bound.
  bool wait_closed() {
    for (;;) {
      Got g = fill();
      if (g == Got::closed) return true;
      if (g == Got::timeout) return false;
    }
  }

 private:
  enum class Got { data, closed, timeout };

  Got fill() {
    char chunk[16384];
    auto n = ::recv(socket_.native(), chunk, static_cast<int>(sizeof(chunk)), 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
      return Got::data;
    }
    if (n == 0) return Got::closed;
#ifdef _WIN32
    return WSAGetLastError() == WSAETIMEDOUT ? Got::timeout : Got::closed;
#else
    return errno == EAGAIN || errno == EWOULDBLOCK ? Got::timeout : Got::closed;  // else a reset
#endif
  }

  Socket socket_;
  std::string buffer_;
};

// ---------------------------------------------------------------------------------------------
// What is sent and what must come back.

struct Case {
  Case(std::string what_, std::string bytes_, int status_ = 0, std::string code_ = {},
       std::string param_ = {}, int replies_ = 1)
      : what(std::move(what_)),
        bytes(std::move(bytes_)),
        status(status_),
        code(std::move(code_)),
        param(std::move(param_)),
        replies(replies_) {}

  std::string what;   // for failure messages
  std::string bytes;  // the whole request(s) as sent
  int status = 0;     // the exact status required; 0: any 4xx, or the connection closed
  std::string code;   // the error code required, if any
  std::string param;  // for field errors: what `param` must start with
  int replies = 1;    // pipelined: replies to read (later ones may be replaced by the close)
};

std::string request(const std::string& method, const std::string& path, const std::string& body,
                    const std::string& extra_headers = {}, bool with_length = true) {
  std::string r = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers;
  if (method == "POST" && !names_content_type(extra_headers)) {
    r += "Content-Type: application/json\r\n";  // what the API takes (else 415)
  }
  if (with_length) r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return r + "\r\n" + body;
}

Case post(std::string what, const std::string& path, const std::string& body, int status,
          std::string code, std::string param = {}) {
  return Case{std::move(what), request("POST", path, body), status, std::move(code),
              std::move(param)};
}

// Empty if `a` is a 4xx in the one shape {"error":{"message","type","code"}} meeting `c`.
std::string problem(const Answer& a, const Case& c) {
  if (a.status < 400 || a.status >= 500) return "status " + std::to_string(a.status);
  if (c.status != 0 && a.status != c.status) {
    return "status " + std::to_string(a.status) + ", expected " + std::to_string(c.status);
  }
  if (a.header("content-type") != "application/json") {
    return "content type '" + a.header("content-type") + "'";
  }
  json body = json::parse(a.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || body.size() != 1 || !body.contains("error")) {
    return "not the error shape: " + a.body.substr(0, 200);
  }
  const json& e = body["error"];
  if (!e.is_object() || !e.contains("message") || !e["message"].is_string() ||
      e["message"].get<std::string>().empty() || !e.contains("type") || !e["type"].is_string() ||
      !e.contains("code") || !e["code"].is_string()) {
    return "not the error shape: " + a.body.substr(0, 200);
  }
  for (const auto& [key, value] : e.items()) {
    if (key != "message" && key != "type" && key != "code" && key != "param") {
      return "unexpected error key '" + key + "'";
    }
  }
  const std::string code = e["code"].get<std::string>();
  if (!c.code.empty() && code != c.code) return "code " + code + ", expected " + c.code;
  if (code == "invalid_value") {
    if (!e.contains("param") || !e["param"].is_string()) return "field error without param";
    const std::string param = e["param"].get<std::string>();
    const std::string message = e["message"].get<std::string>();
    if (message.rfind("field '" + param + "': ", 0) != 0) return "message does not name " + param;
    if (param.rfind(c.param, 0) != 0) return "param '" + param + "', expected " + c.param;
  }
  return {};
}

struct Tally {
  std::size_t requests = 0;
  std::size_t four_xx = 0;
  std::size_t closed = 0;
  std::size_t five_xx = 0;
  std::map<int, std::size_t> statuses;
  std::vector<std::string> failures;

  void fail(const Case& c, const std::string& why) {
    if (failures.size() < 25) failures.push_back(c.what + ": " + why);
  }
  void add(const Tally& o) {
    requests += o.requests;
    four_xx += o.four_xx;
    closed += o.closed;
    five_xx += o.five_xx;
    for (const auto& [s, n] : o.statuses) statuses[s] += n;
    failures.insert(failures.end(), o.failures.begin(), o.failures.end());
  }
};

std::string outcome_name(Outcome o) {
  switch (o) {
    case Outcome::silent:
      return "no answer and not closed within the bound";
    case Outcome::garbled:
      return "a partial or unframed reply";
    case Outcome::closed:
      return "closed without an answer";
    default:
      return "a reply";
  }
}

// Records one answer; `closed_ok`: protocol garbage, where closing is an acceptable answer.
void record(Tally& t, const Case& c, const Answer& a, bool closed_ok) {
  ++t.requests;
  if (a.outcome == Outcome::reply) {
    ++t.statuses[a.status];
    if (a.status >= 500) ++t.five_xx;
    if (auto p = problem(a, c); !p.empty()) {
      t.fail(c, p);
    } else {
      ++t.four_xx;
    }
    return;
  }
  if (a.outcome == Outcome::closed && closed_ok) {
    ++t.closed;
    return;
  }
  t.fail(c, outcome_name(a.outcome));
}

// ---------------------------------------------------------------------------------------------
// The corpus, from one seed.

struct BadField {
  const char* key;
  const char* value;
  const char* param;
};

// Invalid whatever else the body holds, on both endpoints.
const std::vector<BadField> kShared = {
    {"model", "1", "model"},
    {"model", "true", "model"},
    {"model", "[]", "model"},
    {"model", "{}", "model"},
    {"model", "1.5", "model"},
    {"max_tokens", "-1", "max_tokens"},
    {"max_tokens", "-2147483649", "max_tokens"},
    {"max_tokens", "0", "max_tokens"},
    {"max_tokens", "4097", "max_tokens"},
    {"max_tokens", "1.5", "max_tokens"},
    {"max_tokens", "\"8\"", "max_tokens"},
    {"max_tokens", "true", "max_tokens"},
    {"max_tokens", "[]", "max_tokens"},
    {"max_tokens", "{}", "max_tokens"},
    {"max_tokens", "18446744073709551615", "max_tokens"},
    {"max_tokens", "-9223372036854775808", "max_tokens"},
    {"max_tokens", "1e30", "max_tokens"},
    {"temperature", "-0.1", "temperature"},
    {"temperature", "2.01", "temperature"},
    {"temperature", "\"1\"", "temperature"},
    {"temperature", "true", "temperature"},
    {"temperature", "[]", "temperature"},
    {"temperature", "{}", "temperature"},
    {"temperature", "1e308", "temperature"},
    {"temperature", "-1e308", "temperature"},
    {"top_p", "0", "top_p"},
    {"top_p", "-1", "top_p"},
    {"top_p", "1.01", "top_p"},
    {"top_p", "\"0.5\"", "top_p"},
    {"top_p", "false", "top_p"},
    {"top_p", "[]", "top_p"},
    {"seed", "1.5", "seed"},
    {"seed", "\"7\"", "seed"},
    {"seed", "true", "seed"},
    {"seed", "[]", "seed"},
    {"seed", "{}", "seed"},
    {"seed", "18446744073709551615", "seed"},
    {"seed", "18446744073709551616", "seed"},
    {"stop", "1", "stop"},
    {"stop", "true", "stop"},
    {"stop", "{}", "stop"},
    {"stop", "[1]", "stop"},
    {"stop", "[\"\"]", "stop"},
    {"stop", "\"\"", "stop"},
    {"stop", "[null]", "stop"},
    {"stop", "[[]]", "stop"},
    {"stop",
     "[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\",\"l\",\"m\",\"n\","
     "\"o\",\"p\",\"q\"]",
     "stop"},
    {"n", "0", "n"},
    {"n", "3", "n"},  // more choices than the fake's 2 slots
    {"n", "129", "n"},
    {"n", "-1", "n"},
    {"n", "\"1\"", "n"},
    {"n", "1.5", "n"},
    {"stream", "\"true\"", "stream"},
    {"stream", "1", "stream"},
    {"stream", "[]", "stream"},
    {"stream", "{}", "stream"},
    {"stream_options", "\"x\"", "stream_options"},
    {"stream_options", "1", "stream_options"},
    {"stream_options", "[]", "stream_options"},
    {"stream_options", "{\"include_usage\":\"yes\"}", "stream_options"},
};

const std::vector<BadField> kCompletionOnly = {
    {"prompt", "5", "prompt"},         {"prompt", "true", "prompt"},
    {"prompt", "{}", "prompt"},        {"prompt", "[]", "prompt"},
    {"prompt", "[1,2]", "prompt"},     {"prompt", "[\"a\",\"b\"]", "prompt"},
    {"prompt", "[[]]", "prompt"},      {"prompt", "null", "prompt"},
    {"echo", "\"yes\"", "echo"},       {"echo", "1", "echo"},
    {"logprobs", "-1", "logprobs"},    {"logprobs", "21", "logprobs"},
    {"logprobs", "\"1\"", "logprobs"}, {"logprobs", "1.5", "logprobs"},
    {"logprobs", "true", "logprobs"},
};

const std::vector<BadField> kChatOnly = {
    {"messages", "[]", "messages"},
    {"messages", "{}", "messages"},
    {"messages", "\"hi\"", "messages"},
    {"messages", "1", "messages"},
    {"messages", "null", "messages"},
    {"messages", "[1]", "messages"},
    {"messages", "[[]]", "messages"},
    {"messages", "[{\"content\":\"x\"}]", "messages[0].role"},
    {"messages", "[{\"role\":\"bot\",\"content\":\"x\"}]", "messages[0].role"},
    {"messages", "[{\"role\":1,\"content\":\"x\"}]", "messages[0].role"},
    {"messages", "[{\"role\":\"user\"}]", "messages[0].content"},
    {"messages", "[{\"role\":\"user\",\"content\":5}]", "messages[0].content"},
    {"messages", "[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{}}]}]",
     "messages[0].content[0].type"},
    {"messages", "[{\"role\":\"user\",\"content\":[{\"type\":\"text\"}]}]",
     "messages[0].content[0].text"},
    {"messages", "[{\"role\":\"user\",\"content\":[\"x\"]}]", "messages[0].content[0]"},
    {"messages", "[{\"role\":\"user\",\"content\":\"ok\"},{\"role\":\"user\",\"content\":{}}]",
     "messages[1].content"},
    {"max_completion_tokens", "-5", "max_completion_tokens"},
    {"max_completion_tokens", "0", "max_completion_tokens"},
    {"max_completion_tokens", "\"x\"", "max_completion_tokens"},
    {"max_completion_tokens", "4097", "max_completion_tokens"},
    {"top_logprobs", "21", "top_logprobs"},
    {"top_logprobs", "-1", "top_logprobs"},
    {"logprobs", "\"yes\"", "logprobs"},
    {"logprobs", "1", "logprobs"},
};

constexpr const char* kCompletions = "/v1/completions";
constexpr const char* kChat = "/v1/chat/completions";

// A valid body of `chat` kind with `fields` set over the base ones, keys in a fixed order.
std::string body_with(bool chat, const std::vector<std::pair<std::string, std::string>>& fields) {
  std::vector<std::pair<std::string, std::string>> all = {
      chat ? std::pair<std::string, std::string>{"messages", R"([{"role":"user","content":"hi"}])"}
           : std::pair<std::string, std::string>{"prompt", R"("Say hi")"},
      {"max_tokens", "4"}};
  for (const auto& f : fields) {
    auto it =
        std::find_if(all.begin(), all.end(), [&](const auto& a) { return a.first == f.first; });
    if (it != all.end()) {
      it->second = f.second;
    } else {
      all.push_back(f);
    }
  }
  std::string body = "{";
  for (const auto& [k, v] : all) body += (body.size() > 1 ? "," : "") + ("\"" + k + "\":" + v);
  return body + "}";
}

class Corpus {
 public:
  explicit Corpus(std::uint32_t seed) : random_(seed) {}

  // Requests that keep the connection usable: each needs its own specific 4xx.
  std::vector<Case> keep_alive(std::size_t field_cases) {
    std::vector<Case> out;
    for (std::size_t i = 0; i < field_cases; ++i) out.push_back(field_error());
    for (int i = 0; i < 1200; ++i) out.push_back(truncated());
    for (int i = 0; i < 1200; ++i) out.push_back(poisoned_byte());
    add_fixed(out);
    for (int i = 0; i < 300; ++i) out.push_back(bad_route());
    std::shuffle(out.begin(), out.end(), random_);
    return out;
  }

  // Protocol garbage on a fresh connection each: a 4xx or the connection closed.
  std::vector<Case> protocol() {
    std::vector<Case> out;
    const char* methods[] = {"BREW",
                             "PROPFIND",
                             "TRACE",
                             "CONNECT",
                             "get",
                             "G\x01T",
                             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
    const char* paths[] = {"/health", "/v1/completions", "*", "/", "http://evil.example/"};
    for (const char* m : methods) {
      for (const char* p : paths) out.push_back({std::string("method ") + m, request(m, p, "")});
    }
    for (int i = 0; i < 400; ++i) {
      std::string line = bytes(1 + pick(200));
      out.push_back({"garbage request line", line + "\r\n\r\n"});
    }
    // A lenient parse of any of these reaches /nope: a 404, still a 4xx.
    for (const std::string& line : std::vector<std::string>{
             "GET /nope HTTP/9.9\r\n\r\n", "GET /nope HTTP/1.1x\r\nHost: 127.0.0.1\r\n\r\n",
             "GET  /nope  HTTP/1.1\r\n\r\n", "GET /nope\r\n\r\n", "GET\r\n\r\n", "\r\n\r\n",
             " GET /nope HTTP/1.1\r\n\r\n", "GET /nope HTTP/1.1\n\n",
             std::string("GET /no\0pe HTTP/1.1\r\n\r\n", 23),
             "GET /nope HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n",
             "GET /nope HTTP/1.1\r\n: empty-name\r\n\r\n",
             "GET /nope HTTP/1.1\r\nBad Name: x\r\n\r\n",
             "GET /nope HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n"}) {
      for (int i = 0; i < 8; ++i) out.push_back({"malformed request", line});
    }
    for (int i = 0; i < 60; ++i) out.push_back(header_flood());
    for (int i = 0; i < 20; ++i) {
      out.push_back({"URI of 9 KB", "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n\r\n", 414,
                     "uri_too_long"});
    }
    const char* lengths[] = {"-1",   "-100", "abc", "1e3", " 5x", "0x10", "18446744073709551616",
                             "3, 4", ""};
    for (const char* length : lengths) {
      for (int i = 0; i < 20; ++i) {
        out.push_back({std::string("Content-Length: ") + length,
                       request("POST", kCompletions, "{\"prompt\":1}",
                               std::string("Content-Length: ") + length + "\r\n", false)});
      }
    }
    for (int i = 0; i < 30; ++i) {
      out.push_back({"two Content-Lengths",
                     request("POST", kCompletions, "{\"prompt\":1}", "Content-Length: 3\r\n")});
      out.push_back({"bad chunk size", request("POST", kCompletions, "zz\r\n{}\r\n0\r\n\r\n",
                                               "Transfer-Encoding: chunked\r\n", false)});
      out.push_back(
          {"huge chunk size", request("POST", kCompletions, "ffffffffffffffffff\r\n{}\r\n0\r\n\r\n",
                                      "Transfer-Encoding: chunked\r\n", false)});
      out.push_back({"length and chunked",
                     request("POST", kCompletions, "2\r\n{}\r\n0\r\n\r\n",
                             "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", false)});
    }
    // A body announced beyond the limit and never sent: refused with 413 at once.
    for (const std::string& length : {std::to_string(kMaxBody + 1), std::string("99999999999")}) {
      for (int i = 0; i < 4; ++i) {
        out.push_back(
            {"Content-Length " + length + " and no body",
             request("POST", kCompletions, "", "Content-Length: " + length + "\r\n", false)});
      }
    }
    // More bytes than Content-Length says: the rest arrives as the next "request".
    for (int i = 0; i < 100; ++i) {
      std::string body = "{\"prompt\":" + bytes(40 + pick(40));
      out.push_back(
          {"body longer than Content-Length",
           request("POST", kCompletions, body.substr(0, 5), "Content-Length: 5\r\n", false) +
               body.substr(5) + "\r\n\r\n",
           0, "", "", 1});
    }
    // Requests with bad bodies, then garbage, back to back without waiting: each of the three
    // is answered (httplib alone lost what it had read past the first request), then the
    // garbage gets a 4xx or the close.
    for (int i = 0; i < 150; ++i) {
      std::string burst;
      for (int k = 0; k < 3; ++k) burst += request("POST", kCompletions, "{\"prompt\":" + bytes(8));
      out.push_back({"pipelined garbage", burst + bytes(1 + pick(300)) + "\r\n\r\n", 0, "", "", 4});
    }
    std::shuffle(out.begin(), out.end(), random_);
    return out;
  }

 private:
  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(random_);
  }
  template <typename T>
  const T& any(const std::vector<T>& v) {
    return v[pick(v.size())];
  }

  std::string bytes(std::size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(pick(256));
    return s;
  }

  Case field_error() {
    const bool chat = pick(2) == 1;
    const auto& own = chat ? kChatOnly : kCompletionOnly;
    const std::size_t count = 1 + pick(3);
    std::vector<std::pair<std::string, std::string>> fields;
    std::string first_param;
    while (fields.size() < count) {
      const BadField& f =
          pick(kShared.size() + own.size()) < kShared.size() ? any(kShared) : any(own);
      bool taken = false;
      for (const auto& g : fields) taken = taken || g.first == f.key;
      // The newer max_completion_tokens hides max_tokens: one of the two per request.
      const std::string key = f.key;
      for (const auto& g : fields) {
        taken = taken || ((key == "max_tokens" || key == "max_completion_tokens") &&
                          (g.first == "max_tokens" || g.first == "max_completion_tokens"));
      }
      if (taken) continue;
      if (fields.empty()) first_param = f.param;
      fields.emplace_back(f.key, f.value);
    }
    const std::string what = std::string(chat ? "chat" : "completion") + " with bad " +
                             fields.front().first + "=" + fields.front().second;
    return post(what, chat ? kChat : kCompletions, body_with(chat, fields), 400, "invalid_value",
                count == 1 ? first_param : "");
  }

  std::string valid_body(bool chat) {
    std::vector<std::pair<std::string, std::string>> extra = {
        {"temperature", "0.5"}, {"stop", R"(["\n","END"])"}, {"seed", "42"}, {"top_p", "0.9"}};
    extra.resize(pick(extra.size() + 1));
    return body_with(chat, extra);
  }

  Case truncated() {
    const bool chat = pick(2) == 1;
    const std::string body = valid_body(chat);
    return post("truncated JSON", chat ? kChat : kCompletions,
                body.substr(0, 1 + pick(body.size() - 1)), 400, "invalid_json");
  }

  // A byte no JSON text may hold raw (a control character or one that is never UTF-8), anywhere.
  Case poisoned_byte() {
    static const std::string kPoison("\x01\x02\x07\x08\x0b\x0c\x0e\x1b\x1f\xff\xfe\xc0\xc1\xf5",
                                     14);
    const bool chat = pick(2) == 1;
    std::string body = valid_body(chat);
    body.insert(pick(body.size() + 1), 1, kPoison[pick(kPoison.size())]);
    return post("JSON with a raw control or non-UTF-8 byte", chat ? kChat : kCompletions, body, 400,
                "invalid_json");
  }

  Case bad_route() {
    static const std::string kSafe = "abcdefghijklmnopqrstuvwxyz0123456789-._~%/";
    switch (pick(4)) {
      case 0: {
        std::string path = "/";
        for (std::size_t i = 0, n = 1 + pick(60); i < n; ++i) path += kSafe[pick(kSafe.size())];
        if (path == "/health" || path == "/metrics" || path.rfind("/v1/", 0) == 0) path += "x";
        return {"unknown path " + path, request("GET", path, "", {}, false), 404, "not_found"};
      }
      case 1: {
        const char* wrong[][2] = {{"POST", "/health"},
                                  {"DELETE", "/v1/models"},
                                  {"GET", kCompletions},
                                  {"PUT", kChat},
                                  {"PATCH", "/metrics"}};
        const auto& w = wrong[pick(5)];
        return {std::string("wrong method ") + w[0] + " " + w[1], request(w[0], w[1], "{}"), 405,
                "method_not_allowed"};
      }
      case 2: {
        const char* hosts[] = {
            "evil.example", "127.0.0.1.evil.example", "localhost.evil:80", "[::1].evil",
            "127.0.0.2",    "0.0.0.0:8030",           "localhost:abc",     "evil.example:8030"};
        const std::string host = hosts[pick(8)];
        const std::string body = "{\"prompt\":\"hi\"}";
        std::string r = "POST /v1/completions HTTP/1.1\r\nHost: " + host +
                        "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
        return {"Host: " + host, r, 403, "forbidden_host"};
      }
      default:
        return {"multipart body",
                request("POST", kCompletions, "--b\r\n\r\nx\r\n--b--\r\n",
                        "Content-Type: multipart/form-data; boundary=b\r\n"),
                415, "unsupported_media_type"};
    }
  }

  Case header_flood() {
    std::string headers;
    std::string what;
    switch (pick(4)) {
      case 0:
        what = "150 headers";
        for (int i = 0; i < 150; ++i) headers += "X-Flood-" + std::to_string(i) + ": 1\r\n";
        break;
      case 1:
        what = "5000 headers";
        for (int i = 0; i < 5000; ++i) headers += "X-F" + std::to_string(i) + ": yyyyyyyy\r\n";
        break;
      case 2:
        what = "one 9 KB header";
        headers = "X-Big: " + std::string(9000, 'b') + "\r\n";
        break;
      default:
        what = "one 64 KB header";
        headers = "X-Big: " + std::string(65536, 'b') + "\r\n";
        break;
    }
    return {"header flood: " + what, request("POST", kCompletions, "{}", headers)};
  }

  void add_fixed(std::vector<Case>& out) {
    // Bodies that are not one JSON object.
    for (const char* body : {"", "[]", "\"x\"", "1", "null", "true", "{}x", "{\"prompt\":\"x\"}{}",
                             "{'prompt':'x'}", "{\"prompt\":\"\\ud800\"}", "{\"prompt\":\"\\x41\"}",
                             "{\"prompt\":\"x\",}", "{\"prompt\" \"x\"}"}) {
      for (int i = 0; i < 6; ++i) {
        out.push_back(post("not one JSON object: " + std::string(body), kCompletions, body, 400,
                           "invalid_json"));
        out.push_back(
            post("not one JSON object: " + std::string(body), kChat, body, 400, "invalid_json"));
      }
    }
    // Invalid UTF-8 inside strings: overlong, surrogate, truncated, beyond U+10FFFF, stray bytes.
    for (const char* bad : {"\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", "\xf4\x90\x80\x80", "\xff",
                            "\x80", "\xf8\x88\x80\x80\x80"}) {
      for (int i = 0; i < 20; ++i) {
        out.push_back(post("invalid UTF-8 in prompt", kCompletions,
                           "{\"prompt\":\"ab" + std::string(bad) + "cd\"}", 400, "invalid_json"));
        out.push_back(
            post("invalid UTF-8 in content", kChat,
                 "{\"messages\":[{\"role\":\"user\",\"content\":\"" + std::string(bad) + "\"}]}",
                 400, "invalid_json"));
      }
    }
    // Numbers beyond a double: nlohmann throws out_of_range, not parse_error (was a 500).
    for (const char* number : {"1e400", "-1e400", "1e99999", "123456789e999"}) {
      for (const char* key : {"max_tokens", "temperature", "seed", "top_p", "n", "logprobs"}) {
        for (int i = 0; i < 6; ++i) {
          out.push_back(post(std::string("huge number ") + key + "=" + number, kCompletions,
                             body_with(false, {{key, number}}), 400, "invalid_json"));
          out.push_back(post(std::string("huge number ") + key + "=" + number, kChat,
                             body_with(true, {{key, number}}), 400, "invalid_json"));
        }
      }
    }
    // Duplicate keys: the last one counts.
    for (int i = 0; i < 20; ++i) {
      out.push_back(post("duplicate key", kCompletions, "{\"prompt\":\"x\",\"prompt\":5}", 400,
                         "invalid_value", "prompt"));
    }
    // Enormous stop lists.
    for (std::size_t n : {17u, 100u, 5000u, 100000u}) {
      std::string stops = "[";
      for (std::size_t i = 0; i < n; ++i) stops += i ? ",\"s\"" : "\"s\"";
      stops += "]";
      for (int i = 0; i < 3; ++i) {
        out.push_back(post("stop list of " + std::to_string(n), kCompletions,
                           body_with(false, {{"stop", stops}}), 400, "invalid_value", "stop"));
      }
    }
    // Deep nesting.
    for (std::size_t depth : {1000u, 20000u}) {
      const std::string deep = std::string(depth, '[') + std::string(depth, ']');
      out.push_back(post("stop nested " + std::to_string(depth) + " deep", kCompletions,
                         body_with(false, {{"stop", deep}}), 400, "invalid_value", "stop"));
      out.push_back(post("unclosed nesting " + std::to_string(depth), kCompletions,
                         "{\"prompt\":" + std::string(depth, '['), 400, "invalid_json"));
    }
    // 1 MB strings.
    const std::string mega(kMegabyte, 'm');
    const std::string quoted = "\"" + mega + "\"";
    for (int i = 0; i < 3; ++i) {
      out.push_back(post("1 MB prompt, max_tokens -1", kCompletions,
                         body_with(false, {{"prompt", quoted}, {"max_tokens", "-1"}}), 400,
                         "invalid_value", "max_tokens"));
      // The model is chosen first: a name no model has is a 404 (its message cut to 100 bytes).
      out.push_back(post("1 MB model, n 3", kCompletions,
                         body_with(false, {{"model", quoted}, {"n", "3"}}), 404, "model_not_found",
                         "model"));
      out.push_back(post("1 MB stop sequence then a number", kCompletions,
                         body_with(false, {{"stop", "[" + quoted + ",1]"}}), 400, "invalid_value",
                         "stop[1]"));
      out.push_back(post("1 MB prompt ending in invalid UTF-8", kCompletions,
                         "{\"prompt\":\"" + mega + "\xff\"}", 400, "invalid_json"));
      out.push_back(
          post("1 MB chat content, bad temperature", kChat,
               body_with(true, {{"messages", "[{\"role\":\"user\",\"content\":" + quoted + "}]"},
                                {"temperature", "\"hot\""}}),
               400, "invalid_value", "temperature"));
      out.push_back(post("1 MB key", kCompletions, "{" + quoted + ":1,\"prompt\":5}", 400,
                         "invalid_value", "prompt"));
      out.push_back(post("1 MB unterminated string", kCompletions, "{\"prompt\":\"" + mega, 400,
                         "invalid_json"));
      out.push_back(post("body over the limit", kCompletions,
                         "{\"prompt\":\"" + std::string(kMaxBody, 'x') + "\"}", 413,
                         "body_too_large"));
    }
  }

  std::mt19937 random_;
};

// ---------------------------------------------------------------------------------------------

std::size_t resident_bytes() {
#ifdef _WIN32
  return 0;
#else
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0;
  std::size_t resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
#endif
}

class HostileHttpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    log_dir_ = new TempDir();
    log::Options o;
    o.directory = log_dir_->path();
    o.file_stem = "hostile";
    o.level = log::Level::warning;  // 10,000 info lines would measure the log, not the server
    log::init(o);
  }
  static void TearDownTestSuite() {
    log::shutdown();
    delete log_dir_;
  }

  void SetUp() override {
    http::ServerOptions o;
    o.max_body_bytes = kMaxBody;
    o.read_timeout = kReadTimeout;
    o.request_timeout = kRequestTimeout;
    o.keep_alive_timeout = std::chrono::duration_cast<std::chrono::seconds>(kKeepAliveTimeout);
    o.worker_threads = 8;
    server_ = std::make_unique<http::HttpServer>(
        o, [this](const http::Request& r) { return api_.handle(r); });
    port_ = server_->listen(find_free_ports(1), 1);
    server_->start();
  }

 public:  // on_both() takes these by member pointer, formed in the tests
  // Sends the cases one after another on keep-alive connections to `ip`.
  Tally run_keep_alive(const std::vector<Case>& cases, const std::string& ip) {
    Tally t;
    std::unique_ptr<Wire> wire;
    for (const Case& c : cases) {
      if (!wire) wire = std::make_unique<Wire>(ip, port_);
      const bool sent = wire->send(c.bytes);
      Answer a = wire->read();
      // The server may answer an oversized body early and close while the client still sends.
      const bool closed_ok = c.status == 413;
      record(t, c, a, closed_ok);
      (void)sent;
      if (a.outcome != Outcome::reply || a.header("connection") == "close" || c.status == 413) {
        wire.reset();
      }
    }
    return t;
  }

  // Each case on a fresh connection; a 4xx or the close are both fine, silence is not.
  Tally run_fresh(const std::vector<Case>& cases, const std::string& ip) {
    Tally t;
    for (const Case& c : cases) {
      Wire wire(ip, port_);
      wire.send(c.bytes);
      for (int i = 0; i < c.replies; ++i) {
        Answer a = wire.read();
        if (i > 0 && a.outcome == Outcome::closed) break;  // the rest dropped with the connection
        if (i == 0 || a.outcome != Outcome::reply || a.status >= 500) {
          record(t, c, a, /*closed_ok=*/c.status == 0);
        } else {
          ++t.statuses[a.status];
        }
        if (a.outcome != Outcome::reply) break;
      }
    }
    return t;
  }

  // Runs `work` on both loopback addresses at once, one thread each.
  template <typename Work>
  Tally on_both(const std::vector<Case>& cases, Work work) {
    std::vector<Case> halves[2];
    for (std::size_t i = 0; i < cases.size(); ++i) halves[i % 2].push_back(cases[i]);
    Tally v6;
    std::exception_ptr thrown;
    std::thread other([&] {
      try {
        v6 = (this->*work)(halves[1], "::1");
      } catch (...) {
        thrown = std::current_exception();
      }
    });
    Tally all = (this->*work)(halves[0], "127.0.0.1");
    other.join();
    if (thrown) std::rethrow_exception(thrown);
    all.add(v6);
    return all;
  }

 protected:
  bool health_answers() {
    Wire wire("127.0.0.1", port_);
    wire.send(request("GET", "/health", "", {}, false));
    Answer a = wire.read();
    return a.outcome == Outcome::reply && a.status == 200;
  }

  static TempDir* log_dir_;
  FakeBackend backend_;
  api::Api api_{&backend_, api::ApiOptions{"hostile", "", api::RequestLimits{}, {}}};
  std::unique_ptr<http::HttpServer> server_;
  std::uint16_t port_ = 0;
};

TempDir* HostileHttpTest::log_dir_ = nullptr;

std::string summary(const Tally& t) {
  std::string s;
  for (const auto& [status, n] : t.statuses) {
    s += (s.empty() ? "" : ", ") + std::to_string(status) + ": " + std::to_string(n);
  }
  return s;
}

void expect_clean(const Tally& t) {
  EXPECT_EQ(t.five_xx, 0u) << summary(t);
  EXPECT_EQ(t.four_xx + t.closed, t.requests) << t.failures.size() << " failures";
  for (const auto& f : t.failures) ADD_FAILURE() << f;
}

TEST_F(HostileHttpTest, TenThousandMalformedRequestsAreEachRefusedAndTheServerStaysWell) {
  Corpus corpus(20240607);
  const std::vector<Case> warm_up = Corpus(1).keep_alive(200);
  const std::vector<Case> keep_alive = corpus.keep_alive(6000);
  const std::vector<Case> protocol = corpus.protocol();

  // Baseline after a first round, so that pools, thread stacks and caches exist already.
  expect_clean(on_both(warm_up, &HostileHttpTest::run_keep_alive));
  const std::size_t baseline = resident_bytes();
  const auto start = Clock::now();

  Tally total = on_both(keep_alive, &HostileHttpTest::run_keep_alive);
  expect_clean(total);
  Tally garbage = on_both(protocol, &HostileHttpTest::run_fresh);
  expect_clean(garbage);
  total.add(garbage);

  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::cout << total.requests << " malformed requests: " << total.four_xx << " 4xx, "
            << total.closed << " closed, " << total.five_xx << " 5xx (" << summary(total) << ") in "
            << seconds << " s\n";
  EXPECT_GE(total.requests, 10000u);
  EXPECT_EQ(total.five_xx, 0u);

  EXPECT_TRUE(health_answers()) << "the server stopped answering after the flood";
#ifndef _WIN32
  const std::size_t after = resident_bytes();
  std::cout << "RSS: baseline " << baseline / kMegabyte << " MB, after " << after / kMegabyte
            << " MB\n";
  EXPECT_LT(after, baseline + 64 * kMegabyte) << "memory did not come back after the flood";
#else
  (void)baseline;
#endif
}

// A body announced over the limit is refused before it is sent: 413 naming both sizes, and the
// connection closed (its body, were it sent, must not be read as a next request). Before the fix
// the server waited for the body, then answered 400 after its read timeout.
TEST_F(HostileHttpTest, ABodyAnnouncedOverTheLimitIsRefusedAtOnce) {
  Wire wire("127.0.0.1", port_);
  ASSERT_TRUE(
      wire.send("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Content-Type: application/json\r\nContent-Length: " +
                std::to_string(kMaxBody + 1) + "\r\n\r\n"));
  const Answer a = wire.read();
  ASSERT_EQ(a.outcome, Outcome::reply);
  EXPECT_EQ(a.status, 413);
  EXPECT_NE(a.body.find("\"code\":\"body_too_large\""), std::string::npos) << a.body;
  EXPECT_NE(a.body.find(std::to_string(kMaxBody + 1)), std::string::npos) << a.body;
  EXPECT_EQ(a.header("connection"), "close");
  EXPECT_TRUE(wire.wait_closed());
}

// Requests that stall part-way hold a connection only until the server's request timeout (or,
// for one that never sends anything, its keep-alive timeout); meanwhile other clients are served.
TEST_F(HostileHttpTest, StalledRequestsAreClosedWithinTheServersTimeouts) {
  struct Stall {
    const char* what;
    std::string bytes;
    std::chrono::milliseconds bound;
  };
  const std::vector<Stall> stalls = {
      {"nothing sent", "", kKeepAliveTimeout},
      {"half a request line", "POST /v1/compl", kRequestTimeout},
      {"half the headers",
       "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: ", kRequestTimeout},
      {"headers, then a tenth of the body",
       "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{\"prompt\"",
       kRequestTimeout},
      {"chunked, then half a chunk",
       "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
       "40\r\n{\"pro",
       kRequestTimeout},
      {"Expect: 100-continue, then no body",
       "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\n"
       "Content-Length: 20\r\n\r\n",
       kRequestTimeout},
  };
  // Slack for a loaded 2-core machine (and ASan): the server checks its timeouts at once.
  const auto slack = 1500ms;
  std::size_t closed = 0;
  std::chrono::milliseconds worst{0};
  const int rounds = 4;
  for (int round = 0; round < rounds; ++round) {
    std::vector<std::unique_ptr<Wire>> wires;
    const auto start = Clock::now();
    for (const auto& s : stalls) {
      wires.push_back(std::make_unique<Wire>(round % 2 ? "::1" : "127.0.0.1", port_));
      wires.back()->send(s.bytes);
    }
    // Six stalled connections hold six of eight workers: others are still answered.
    EXPECT_TRUE(health_answers()) << "round " << round;
    for (std::size_t i = 0; i < stalls.size(); ++i) {
      // A 100 Continue or a 4xx may come first; what matters is that the connection ends.
      const bool ended = wires[i]->wait_closed();
      const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
      EXPECT_TRUE(ended) << stalls[i].what << ": still open after " << took.count() << " ms";
      // Before issue #7's fix httplib allowed keep-alive + read timeout, and more for a client
      // that kept sending; now the request deadline (or, for silence, keep-alive) alone.
      EXPECT_LE(took, stalls[i].bound + slack) << stalls[i].what;
      worst = std::max(worst, took);
      closed += ended ? 1 : 0;
    }
  }
  std::cout << closed << " stalled requests closed; the slowest after " << worst.count()
            << " ms (request timeout " << kRequestTimeout.count() << " ms, keep-alive "
            << std::chrono::duration_cast<std::chrono::milliseconds>(kKeepAliveTimeout).count()
            << " ms)\n";
  EXPECT_EQ(closed, stalls.size() * rounds);
  EXPECT_TRUE(health_answers());
}

// Defect found in issue #7: two requests written in one send() got one answer, and the second
// only when the keep-alive timeout closed the connection (httplib read the second request into
// a buffer that died with the first). Now both are answered at once, in order.
TEST_F(HostileHttpTest, PipelinedRequestsAreAllAnsweredAtOnce) {
  for (const char* ip : {"127.0.0.1", "::1"}) {
    Wire wire(ip, port_);
    const auto start = Clock::now();
    ASSERT_TRUE(wire.send(
        request("GET", "/health", "", {}, false) + request("POST", kCompletions, "{\"prompt\":5}") +
        request("GET", "/nope", "", {}, false) + request("GET", "/health", "", {}, false)));
    const int expected[] = {200, 400, 404, 200};
    for (int status : expected) {
      const Answer a = wire.read();
      ASSERT_EQ(a.outcome, Outcome::reply) << ip << ": " << outcome_name(a.outcome);
      EXPECT_EQ(a.status, status) << ip << ": " << a.body;
    }
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    // Well under the keep-alive timeout, which is what the answers used to wait for.
    EXPECT_LT(took, kKeepAliveTimeout / 2) << ip;
    std::cout << "4 pipelined requests on " << ip << " answered in " << took.count() << " ms\n";
  }
}

// Slow clients, paced by a condition variable so that stopping them is immediate.
class Slowloris {
 public:
  enum class Kind { silent, half_line, dribble_headers, dribble_body };

  Slowloris(const std::string& ip, std::uint16_t port, Kind kind) : kind_(kind), wire_(ip, port) {
    if (kind_ == Kind::half_line) wire_.send("POST /v1/compl");
    if (kind_ == Kind::dribble_headers || kind_ == Kind::dribble_body) {
      thread_ = std::thread([this] { dribble(); });
    }
  }
  ~Slowloris() { stop(); }
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  Kind kind() const { return kind_; }
  Wire& wire() { return wire_; }
  // How long the server let it keep sending before it closed the connection.
  std::chrono::milliseconds sent_for() const { return sent_for_; }

 private:
  void dribble() {
    std::string bytes = "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (kind_ == Kind::dribble_body) {
      wire_.send(bytes + "Content-Length: 100000\r\n\r\n");
      bytes = std::string(100000, 'x');
    } else {
      for (int i = 0; i < 1000; ++i) bytes += "X-Slow-" + std::to_string(i) + ": y\r\n";
    }
    const auto start = Clock::now();
    std::unique_lock lock(mutex_);
    for (char byte : bytes) {
      if (wake_.wait_for(lock, 50ms, [this] { return stopped_; })) break;
      if (!wire_.send(std::string(1, byte))) break;  // the server closed it
      sent_for_ = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    }
  }

  Kind kind_;
  Wire wire_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopped_ = false;
  std::chrono::milliseconds sent_for_{0};
  std::thread thread_;
};

// Defect found in issue #7: a connection waiting for its request held one of the 8 workers for
// up to keep-alive + read timeout, and a client sending a byte at a time renewed the read timeout
// for ever; 8 such clients starved the server. Now waiting connections hold no worker, and a
// request must arrive whole within the request timeout (408 and close otherwise).
TEST_F(HostileHttpTest, SlowlorisClientsDoNotStarveOtherClients) {
  constexpr int kSlow = 16;  // twice the worker threads
  std::vector<std::unique_ptr<Slowloris>> slow;
  for (int i = 0; i < kSlow; ++i) {
    slow.push_back(std::make_unique<Slowloris>(i % 2 ? "::1" : "127.0.0.1", port_,
                                               static_cast<Slowloris::Kind>(i % 4)));
  }
  // Every slow client has started (the dribblers sent a first byte) once this answers.
  std::chrono::milliseconds worst{0};
  for (int i = 0; i < 20; ++i) {
    const auto start = Clock::now();
    EXPECT_TRUE(health_answers()) << "request " << i;
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    worst = std::max(worst, took);
  }
  std::cout << "20 requests beside " << kSlow << " slowloris clients: slowest answered in "
            << worst.count() << " ms\n";
  EXPECT_LT(worst, 2s) << "slow clients held up a normal one";

  // The dribblers are cut off by the request deadline although they never stop sending; the
  // others by the request deadline or the keep-alive timeout.
  const auto slack = 1500ms;
  for (auto& s : slow) {
    const bool dribbler =
        s->kind() == Slowloris::Kind::dribble_headers || s->kind() == Slowloris::Kind::dribble_body;
    if (dribbler || s->kind() == Slowloris::Kind::half_line) {
      const Answer a = s->wire().read();
      if (s->kind() == Slowloris::Kind::dribble_body && a.outcome != Outcome::reply) {
        // A large body is read by a worker, under the same deadline: cut without an answer.
        EXPECT_EQ(a.outcome, Outcome::closed);
      } else {
        ASSERT_EQ(a.outcome, Outcome::reply) << outcome_name(a.outcome);
        EXPECT_EQ(a.status, 408) << a.body;
        EXPECT_NE(a.body.find("\"code\":\"request_timeout\""), std::string::npos) << a.body;
        EXPECT_EQ(a.header("connection"), "close");
      }
    }
    EXPECT_TRUE(s->wire().wait_closed());
    s->stop();
    if (dribbler) {
      EXPECT_LE(s->sent_for(), kRequestTimeout + slack) << "a dribbler was let go on sending";
    }
  }
  EXPECT_TRUE(health_answers());
}

}  // namespace
}  // namespace tandem::testing
