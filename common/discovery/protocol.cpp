#include "common/discovery/protocol.h"

#include <cstdint>
#include <limits>

#include <nlohmann/json.hpp>

#include "common/discovery/compute_devices.h"

namespace tandem::discovery {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// Messages are flat: anything nested deeper than the error object is refused while parsing, so
// no hostile message can make any later step recurse deeply.
constexpr int kMaxDepth = 4;
constexpr std::size_t kMaxQuoted = 60;

std::string dump(const ordered_json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// A value as it appears in a message, cut short: clients may send anything.
std::string quoted(const json& v) {
  std::string text = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > kMaxQuoted) text = text.substr(0, kMaxQuoted) + "...";
  return text;
}

std::string type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::string:
      return "a string";
    case json::value_t::array:
      return "an array";
    case json::value_t::object:
      return "an object";
    case json::value_t::number_float:
      return "a number with a fraction";
    default:
      return "a number";
  }
}

// A request's faults are the client's (bad_request, no prefix: the message goes back to it); a
// response's are the server's (tandem::Error).
[[noreturn]] void fail(bool request, std::string_view code, const std::string& what) {
  if (request) throw ProtocolError(code, what);
  throw Error("pipe response: " + what);
}

// Field access for one side of the protocol.
class Fields {
 public:
  Fields(const json& object, bool request) : object_(object), request_(request) {}

  [[noreturn]] void fail(std::string_view code, const std::string& what) const {
    discovery::fail(request_, code, what);
  }
  [[noreturn]] void fail_field(const std::string& key, const std::string& what) const {
    fail(kBadRequest, "field '" + key + "': " + what);
  }

  const json* find(const std::string& key) const {
    auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }
  const json& require(const std::string& key, const std::string& why) const {
    const json* v = find(key);
    if (!v) fail_field(key, "required" + why);
    return *v;
  }

  std::int64_t integer(const std::string& key, const json& v, std::int64_t min,
                       std::int64_t max) const {
    const std::string range =
        "an integer from " + std::to_string(min) + " to " + std::to_string(max);
    if (!v.is_number_integer()) fail_field(key, "expected " + range + ", got " + type_name(v));
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
      fail_field(key, "expected " + range + ", got " + v.dump());
    }
    auto n = v.get<std::int64_t>();
    if (n < min || n > max) fail_field(key, "expected " + range + ", got " + std::to_string(n));
    return n;
  }
  std::string string(const std::string& key, const json& v) const {
    if (!v.is_string()) fail_field(key, "expected a string, got " + type_name(v));
    return v.get<std::string>();
  }
  std::optional<std::string> optional_string(const std::string& key) const {
    const json* v = find(key);
    return v ? std::optional(string(key, *v)) : std::nullopt;
  }

  // The version comes first: a newer client's other fields may mean something else.
  void check_version() const {
    const json& v = require("v", " (the protocol version, 1)");
    auto version = integer("v", v, 0, std::numeric_limits<std::int32_t>::max());
    if (version != kProtocolVersion) {
      fail(kUnsupportedVersion, "field 'v': version " + std::to_string(version) +
                                    " is not supported; " +
                                    (request_ ? "this server" : "this client") +
                                    " speaks version " + std::to_string(kProtocolVersion));
    }
  }

  void reject_unknown(std::initializer_list<std::string_view> known) const {
    for (const auto& [key, value] : object_.items()) {
      bool found = false;
      for (auto k : known) found = found || k == key;
      if (!found) {
        fail_field(key.size() > kMaxQuoted ? key.substr(0, kMaxQuoted) + "..." : key,
                   "unknown field");
      }
    }
  }

 private:
  const json& object_;
  bool request_;
};

json parse_limited(std::string_view message, bool request) {
  if (message.size() > kMaxMessageBytes) {
    fail(request, kBadRequest,
         std::string(request ? "request" : "response") + " is " + std::to_string(message.size()) +
             " bytes; the limit is " + std::to_string(kMaxMessageBytes));
  }
  // nlohmann takes a NUL byte for the end of its input, so "{...}\0anything" would pass as its
  // first part. No JSON text holds a raw NUL (strings must escape it): refuse it first.
  if (auto nul = message.find('\0'); nul != std::string_view::npos) {
    fail(request, kBadRequest, "invalid JSON: a NUL byte at offset " + std::to_string(nul));
  }
  try {
    json root = json::parse(message, [&](int depth, json::parse_event_t, json&) {
      if (depth > kMaxDepth) fail(request, kBadRequest, "nested deeper than the protocol allows");
      return true;
    });
    if (!root.is_object())
      fail(request, kBadRequest, "expected a JSON object, got " + type_name(root));
    return root;
  } catch (const json::exception& e) {
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix; keep its position and reason.
    if (auto bracket = what.find("] "); bracket != std::string::npos)
      what = what.substr(bracket + 2);
    fail(request, kBadRequest, "invalid JSON: " + what);
  }
}

Op parse_op(const Fields& f) {
  const json& v = f.require("op", " (resolve, wait or status)");
  std::string op = f.string("op", v);
  if (op == "resolve") return Op::resolve;
  if (op == "wait") return Op::wait;
  if (op == "status") return Op::status;
  f.fail_field("op", "expected one of resolve, wait, status; got " + quoted(v));
}

std::string_view op_name(Op op) {
  switch (op) {
    case Op::wait:
      return "wait";
    case Op::status:
      return "status";
    default:
      return "resolve";
  }
}

}  // namespace

Request parse_request(std::string_view message) {
  json root = parse_limited(message, true);
  Fields f(root, true);
  f.check_version();
  Request request;
  request.op = parse_op(f);
  if (const json* t = f.find("timeout_ms")) {
    request.timeout = std::chrono::milliseconds(f.integer("timeout_ms", *t, 0, kMaxWait.count()));
  } else if (request.op == Op::wait) {
    f.fail_field("timeout_ms", "required for op 'wait' (milliseconds, at most " +
                                   std::to_string(kMaxWait.count()) + ")");
  }
  f.reject_unknown({"v", "op", "timeout_ms"});
  return request;
}

std::string encode_request(const Request& request) {
  ordered_json j;
  j["v"] = kProtocolVersion;
  j["op"] = op_name(request.op);
  if (request.op == Op::wait) j["timeout_ms"] = request.timeout.count();
  return dump(j);
}

std::string encode_endpoint(const Endpoint& endpoint) {
  ordered_json j;
  j["v"] = kProtocolVersion;
  j["ok"] = true;
  j["state"] = state_name(endpoint.state);
  if (endpoint.state == State::ready) {
    j["port"] = endpoint.port;
    j["url"] = endpoint.url;
    j["addresses"] = endpoint.addresses;
  }
  if (endpoint.pid != 0) j["pid"] = endpoint.pid;
  if (!endpoint.instance_id.empty()) j["instance"] = endpoint.instance_id;
  if (!endpoint.model.empty()) j["model"] = endpoint.model;
  if (!endpoint.loaded_models.empty()) j["loaded_models"] = endpoint.loaded_models;
  if (!endpoint.cpu_variant.empty()) j["cpu_variant"] = endpoint.cpu_variant;
  if (!endpoint.cpu_features.empty()) j["cpu_features"] = endpoint.cpu_features;
  if (!endpoint.devices.empty()) j["devices"] = devices_json(endpoint.devices);
  return dump(j);
}

std::string encode_error(std::string_view code, std::string_view message) {
  ordered_json j;
  j["v"] = kProtocolVersion;
  j["ok"] = false;
  j["error"]["code"] = code;
  j["error"]["message"] = message;
  return dump(j);
}

Response decode_response(std::string_view message) {
  json root = parse_limited(message, false);
  Fields f(root, false);
  f.check_version();
  const json& ok = f.require("ok", "");
  if (!ok.is_boolean()) f.fail_field("ok", "expected true or false, got " + type_name(ok));

  Response response;
  if (!ok.get<bool>()) {
    const json& error = f.require("error", " when ok is false");
    if (!error.is_object()) f.fail_field("error", "expected an object, got " + type_name(error));
    Fields e(error, false);
    response.error = ResponseError{e.string("error.code", e.require("code", "")),
                                   e.string("error.message", e.require("message", ""))};
    return response;
  }

  Endpoint endpoint;
  const json& state_value = f.require("state", "");
  std::string state = f.string("state", state_value);
  auto parsed = parse_state(state);
  if (!parsed) {
    f.fail_field("state",
                 "expected starting, ready, stopping or stopped; got " + quoted(state_value));
  }
  endpoint.state = *parsed;
  if (const json* pid = f.find("pid")) {
    endpoint.pid = static_cast<std::uint32_t>(
        f.integer("pid", *pid, 0, std::numeric_limits<std::uint32_t>::max()));
  }
  endpoint.instance_id = f.optional_string("instance").value_or("");
  endpoint.model = f.optional_string("model").value_or("");
  if (const json* loaded = f.find("loaded_models")) {
    if (!loaded->is_array()) {
      f.fail_field("loaded_models", "expected an array of model ids, got " + type_name(*loaded));
    }
    for (std::size_t i = 0; i < loaded->size(); ++i) {
      endpoint.loaded_models.push_back(
          f.string("loaded_models[" + std::to_string(i) + "]", (*loaded)[i]));
    }
  }
  endpoint.cpu_variant = f.optional_string("cpu_variant").value_or("");
  endpoint.cpu_features = f.optional_string("cpu_features").value_or("");
  if (const json* devices = f.find("devices"))
    endpoint.devices = parse_devices(*devices, "devices");
  if (endpoint.state == State::ready) {
    const std::string why = " when state is ready";
    endpoint.port = static_cast<std::uint16_t>(f.integer("port", f.require("port", why), 1, 65535));
    endpoint.url = f.string("url", f.require("url", why));
    const json& addresses = f.require("addresses", why);
    if (!addresses.is_array()) {
      f.fail_field("addresses", "expected an array, got " + type_name(addresses));
    }
    for (const json& a : addresses) endpoint.addresses.push_back(f.string("addresses", a));
  }
  response.endpoint = std::move(endpoint);
  return response;
}

}  // namespace tandem::discovery
