#include "common/discovery/protocol.h"

#include <gtest/gtest.h>

#include <string>

namespace tandem::discovery {
namespace {

// The code and message a request is refused with; "accepted" if it is not.
std::pair<std::string, std::string> refusal(std::string_view message) {
  try {
    parse_request(message);
  } catch (const ProtocolError& e) {
    return {e.code(), e.what()};
  }
  return {"accepted", ""};
}

Endpoint ready_endpoint() {
  Endpoint e;
  e.state = State::ready;
  e.port = 8031;
  e.url = "http://127.0.0.1:8031";
  e.addresses = loopback_addresses();
  e.pid = 4242;
  e.instance_id = "{6B29FC40-CA47-1067-B31D-00DD010662DA}";
  e.model = "tandem-tiny";
  return e;
}

TEST(DiscoveryRequest, ParsesEveryOp) {
  EXPECT_EQ(parse_request(R"({"v":1,"op":"resolve"})").op, Op::resolve);
  EXPECT_EQ(parse_request(R"({"v":1,"op":"status"})").op, Op::status);
  Request wait = parse_request(R"({"v":1,"op":"wait","timeout_ms":30000})");
  EXPECT_EQ(wait.op, Op::wait);
  EXPECT_EQ(wait.timeout.count(), 30000);
  EXPECT_EQ(parse_request(R"( {"op":"wait","timeout_ms":0,"v":1} )").timeout.count(), 0);
}

TEST(DiscoveryRequest, EncodedRequestsParseBack) {
  EXPECT_EQ(encode_request({Op::wait, std::chrono::milliseconds(1500)}),
            R"({"v":1,"op":"wait","timeout_ms":1500})");
  EXPECT_EQ(encode_request({Op::resolve, {}}), R"({"v":1,"op":"resolve"})");
  Request back = parse_request(encode_request({Op::wait, std::chrono::milliseconds(7)}));
  EXPECT_EQ(back.op, Op::wait);
  EXPECT_EQ(back.timeout.count(), 7);
}

TEST(DiscoveryRequest, MalformedIsBadRequestNamingTheField) {
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(refusal(R"({"op":"resolve"})"),
            P("bad_request", "field 'v': required (the protocol version, 1)"));
  EXPECT_EQ(refusal(R"({"v":"1","op":"resolve"})"),
            P("bad_request", "field 'v': expected an integer from 0 to 2147483647, got a string"));
  EXPECT_EQ(refusal(R"({"v":1})"),
            P("bad_request", "field 'op': required (resolve, wait or status)"));
  EXPECT_EQ(refusal(R"({"v":1,"op":7})"),
            P("bad_request", "field 'op': expected a string, got a number"));
  EXPECT_EQ(
      refusal(R"({"v":1,"op":"shutdown"})"),
      P("bad_request", "field 'op': expected one of resolve, wait, status; got \"shutdown\""));
  EXPECT_EQ(refusal(R"({"v":1,"op":"wait"})"),
            P("bad_request",
              "field 'timeout_ms': required for op 'wait' (milliseconds, at most 86400000)"));
  EXPECT_EQ(refusal(R"({"v":1,"op":"wait","timeout_ms":-1})"),
            P("bad_request", "field 'timeout_ms': expected an integer from 0 to 86400000, got -1"));
  EXPECT_EQ(refusal(R"({"v":1,"op":"wait","timeout_ms":1.5})"),
            P("bad_request",
              "field 'timeout_ms': expected an integer from 0 to 86400000, got a "
              "number with a fraction"));
  EXPECT_EQ(refusal(R"({"v":1,"op":"wait","timeout_ms":18446744073709551615})"),
            P("bad_request",
              "field 'timeout_ms': expected an integer from 0 to 86400000, got "
              "18446744073709551615"));
  EXPECT_EQ(refusal(R"({"v":1,"op":"resolve","timeout":5})"),
            P("bad_request", "field 'timeout': unknown field"));
}

TEST(DiscoveryRequest, NewerVersionIsUnsupportedNotBad) {
  auto [code, message] = refusal(R"({"v":2,"op":"teleport"})");
  EXPECT_EQ(code, "unsupported_version");
  EXPECT_EQ(message, "field 'v': version 2 is not supported; this server speaks version 1");
}

TEST(DiscoveryRequest, NonObjectsAndGarbageAreBadRequests) {
  for (std::string_view text : {"[1,2]", "\"resolve\"", "42", "null", ""}) {
    auto [code, message] = refusal(text);
    EXPECT_EQ(code, "bad_request") << text;
    EXPECT_FALSE(message.empty()) << text;
  }
  EXPECT_EQ(refusal("[1]").second, "expected a JSON object, got an array");
  auto [code, message] = refusal(R"({"v":1,"op":"resolve")");
  EXPECT_EQ(code, "bad_request");
  EXPECT_EQ(message.rfind("invalid JSON: ", 0), 0u) << message;

  const std::string binary("\x00\xff\xfe{\x01\"v\x80", 9);
  EXPECT_EQ(refusal(binary).first, "bad_request");
  EXPECT_EQ(refusal("{\"v\":1,\"op\":\"\xc3\x28\"}").first, "bad_request");  // invalid UTF-8
}

// Regression (issue #7): the JSON parser stopped at a NUL byte, so a valid request followed by
// "\0" and anything at all was accepted as the valid request alone.
TEST(DiscoveryRequest, ANulByteAnywhereIsABadRequest) {
  const std::string valid = R"({"v":1,"op":"resolve"})";
  for (std::size_t at = 0; at <= valid.size(); ++at) {
    std::string text = valid;
    text.insert(at, 1, '\0');
    EXPECT_EQ(refusal(text),
              std::make_pair(std::string("bad_request"),
                             "invalid JSON: a NUL byte at offset " + std::to_string(at)))
        << at;
  }
  EXPECT_EQ(refusal(valid + std::string("\0{\"v\":2}", 8)).first, "bad_request");
  EXPECT_THROW(decode_response(encode_endpoint(ready_endpoint()) + std::string(1, '\0')), Error);
}

TEST(DiscoveryRequest, DeepNestingIsRefusedWithoutRecursing) {
  std::string deep = "{\"v\":1,\"op\":\"resolve\",\"x\":";
  deep += std::string(30000, '[') + std::string(30000, ']') + "}";
  auto [code, message] = refusal(deep);
  EXPECT_EQ(code, "bad_request");
  EXPECT_EQ(message, "nested deeper than the protocol allows");
}

TEST(DiscoveryRequest, OversizedIsRefusedBeforeParsing) {
  std::string big = R"({"v":1,"op":"resolve","pad":")" + std::string(kMaxMessageBytes, 'x') + "\"}";
  EXPECT_EQ(refusal(big),
            std::make_pair(std::string("bad_request"), "request is " + std::to_string(big.size()) +
                                                           " bytes; the limit is 65536"));
  // Exactly at the limit is parsed (and then refused only for its unknown field).
  std::string edge = R"({"v":1,"op":"resolve","pad":")";
  edge += std::string(kMaxMessageBytes - edge.size() - 2, 'x') + "\"}";
  ASSERT_EQ(edge.size(), kMaxMessageBytes);
  EXPECT_EQ(refusal(edge).second, "field 'pad': unknown field");
}

TEST(DiscoveryResponse, ReadyEndpointIsEncodedAsTheDesignShows) {
  EXPECT_EQ(encode_endpoint(ready_endpoint()),
            R"({"v":1,"ok":true,"state":"ready","port":8031,"url":"http://127.0.0.1:8031",)"
            R"("addresses":["127.0.0.1","::1"],"pid":4242,)"
            R"("instance":"{6B29FC40-CA47-1067-B31D-00DD010662DA}","model":"tandem-tiny"})");
}

TEST(DiscoveryResponse, LoadedModelsTravelAsAnArray) {
  Endpoint e = ready_endpoint();
  e.loaded_models = {"tandem-tiny", "qwen"};
  const std::string text = encode_endpoint(e);
  EXPECT_NE(text.find(R"("loaded_models":["tandem-tiny","qwen"])"), std::string::npos) << text;
  EXPECT_EQ(decode_response(text).endpoint->loaded_models, e.loaded_models);
}

TEST(DiscoveryResponse, TheCpuVariantAndDevicesTravelAndUnknownDeviceKeysAreIgnored) {
  Endpoint e = ready_endpoint();
  e.cpu_variant = "zen4";
  e.cpu_features = "AVX2 AVX512";
  e.devices = {{"CPU", "AMD EPYC", "cpu", 5, 9, 3}};
  const std::string text = encode_endpoint(e);
  EXPECT_NE(
      text.find(R"("cpu_variant":"zen4","cpu_features":"AVX2 AVX512","devices":[{"name":"CPU",)"
                R"("description":"AMD EPYC","type":"cpu","memory_free":5,"memory_total":9,)"
                R"("layers":3}])"),
      std::string::npos)
      << text;
  const auto back = decode_response(text).endpoint;
  EXPECT_EQ(back->cpu_variant, "zen4");
  EXPECT_EQ(back->cpu_features, "AVX2 AVX512");
  EXPECT_EQ(back->devices, e.devices);
  // A later server may say more of each device.
  std::string newer = text;
  newer.replace(newer.find(R"("name":"CPU")"), 12, R"("name":"CPU","vram_used":3)");
  EXPECT_EQ(decode_response(newer).endpoint->devices, e.devices);
}

TEST(DiscoveryResponse, NotReadyHasStateButNoAddress) {
  Endpoint e = ready_endpoint();
  e.state = State::starting;
  EXPECT_EQ(encode_endpoint(e),
            R"({"v":1,"ok":true,"state":"starting","pid":4242,)"
            R"("instance":"{6B29FC40-CA47-1067-B31D-00DD010662DA}","model":"tandem-tiny"})");
  EXPECT_EQ(encode_endpoint(Endpoint{}), R"({"v":1,"ok":true,"state":"starting"})");
}

TEST(DiscoveryResponse, ErrorsAreEncodedAsTheDesignShows) {
  EXPECT_EQ(encode_error(kTimeout, "not ready within 5 ms"),
            R"({"v":1,"ok":false,"error":{"code":"timeout","message":"not ready within 5 ms"}})");
  EXPECT_EQ(encode_error(kNotReady, "stopping"),
            R"({"v":1,"ok":false,"error":{"code":"not_ready","message":"stopping"}})");
  // Invalid UTF-8 from a client never breaks the encoder.
  std::string encoded = encode_error(kBadRequest, "got \xff\xfe");
  EXPECT_NE(encoded.find("bad_request"), std::string::npos);
  EXPECT_NE(encoded.find("\xef\xbf\xbd"), std::string::npos);  // U+FFFD
}

TEST(DiscoveryResponse, DecodesWhatTheServerEncodes) {
  Response ready = decode_response(encode_endpoint(ready_endpoint()));
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready.endpoint->state, State::ready);
  EXPECT_EQ(ready.endpoint->port, 8031);
  EXPECT_EQ(ready.endpoint->url, "http://127.0.0.1:8031");
  EXPECT_EQ(ready.endpoint->addresses, loopback_addresses());
  EXPECT_EQ(ready.endpoint->pid, 4242u);
  EXPECT_EQ(ready.endpoint->instance_id, "{6B29FC40-CA47-1067-B31D-00DD010662DA}");
  EXPECT_EQ(ready.endpoint->model, "tandem-tiny");

  Endpoint starting = ready_endpoint();
  starting.state = State::starting;
  Response not_ready = decode_response(encode_endpoint(starting));
  ASSERT_TRUE(not_ready.ok());
  EXPECT_EQ(not_ready.endpoint->state, State::starting);
  EXPECT_EQ(not_ready.endpoint->port, 0);

  Response error = decode_response(encode_error(kTimeout, "not ready within 5 ms"));
  ASSERT_FALSE(error.ok());
  ASSERT_TRUE(error.error);
  EXPECT_EQ(error.error->code, "timeout");
  EXPECT_EQ(error.error->message, "not ready within 5 ms");
}

TEST(DiscoveryResponse, ContractBreachesNameTheField) {
  auto error_of = [](std::string_view text) -> std::string {
    try {
      decode_response(text);
    } catch (const Error& e) {
      return e.what();
    }
    return "decoded";
  };
  EXPECT_EQ(error_of(R"({"v":1,"ok":true,"state":"ready","url":"u","addresses":[]})"),
            "pipe response: field 'port': required when state is ready");
  EXPECT_EQ(error_of(R"({"v":1,"ok":true,"state":"ready","port":0,"url":"u","addresses":[]})"),
            "pipe response: field 'port': expected an integer from 1 to 65535, got 0");
  EXPECT_EQ(error_of(R"({"v":1,"ok":true,"state":"dancing"})"),
            "pipe response: field 'state': expected starting, ready, stopping or stopped; got "
            "\"dancing\"");
  EXPECT_EQ(error_of(R"({"v":3,"ok":true})"),
            "pipe response: field 'v': version 3 is not supported; this client speaks version 1");
  EXPECT_EQ(error_of(R"({"v":1,"ok":false,"error":"boom"})"),
            "pipe response: field 'error': expected an object, got a string");
  EXPECT_EQ(error_of(R"({"v":1,"ok":"yes"})"),
            "pipe response: field 'ok': expected true or false, got a string");
  EXPECT_EQ(error_of("not json").rfind("pipe response: invalid JSON: ", 0), 0u);
}

TEST(DiscoveryState, NamesRoundTrip) {
  for (State s : {State::starting, State::ready, State::stopping, State::stopped}) {
    EXPECT_EQ(parse_state(state_name(s)), s);
  }
  EXPECT_FALSE(parse_state("Ready"));
  EXPECT_FALSE(parse_state(""));
  EXPECT_EQ(loopback_url(8031), "http://127.0.0.1:8031");
}

}  // namespace
}  // namespace tandem::discovery
