// POST /v1/embeddings, /tokenize and /detokenize against the fake backend: OpenAI's and
// llama-server's shapes, base64 vectors, and every bad argument refused by name.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/base64.h"
#include "service/api/api.h"
#include "tests/support/api_calls.h"
#include "tests/support/fake_backend.h"

namespace tandem::api {
namespace {

using nlohmann::json;
using namespace tandem::testing;

// Base64 back to bytes (the test's own decoder, to check the server's encoder against).
std::string decode_base64(const std::string& text) {
  const std::string digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::uint32_t bits = 0;
  int count = 0;
  for (const char c : text) {
    if (c == '=') break;
    const auto at = digits.find(c);
    EXPECT_NE(at, std::string::npos) << "not base64: " << c;
    bits = bits << 6 | static_cast<std::uint32_t>(at);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>(bits >> count & 0xff);
    }
  }
  return out;
}

// Little-endian float32s, as OpenAI's SDKs read them.
std::vector<float> little_endian_floats(const std::string& bytes) {
  std::vector<float> out;
  for (std::size_t i = 0; i + 4 <= bytes.size(); i += 4) {
    std::uint32_t bits = 0;
    for (int b = 3; b >= 0; --b) {
      bits = bits << 8 | static_cast<unsigned char>(bytes[i + static_cast<std::size_t>(b)]);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    out.push_back(f);
  }
  return out;
}

class ApiEmbeddingsTest : public ::testing::Test {
 protected:
  json embed(const std::string& body) {
    auto r = api.handle(post("/v1/embeddings", body));
    EXPECT_EQ(r.status, 200) << r.body;
    return body_of(r);
  }
  void expect_refused(const std::string& path, const std::string& body, const std::string& param,
                      const std::string& code = "invalid_value") {
    auto r = api.handle(post(path, body));
    expect_error(r, 400, code);
    EXPECT_EQ(body_of(r)["error"]["param"], param) << body;
  }

  testing::FakeBackend backend;
  Api api{&backend, ApiOptions{"instance-1", "", RequestLimits{}, {}}};
};

TEST(Base64, EncodesAsRfc4648) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string("\xff\x00\xfe", 3)), "/wD+");
}

TEST_F(ApiEmbeddingsTest, OneTextGivesOpenAIsShape) {
  const json b = embed(R"({"model":"fake-model","input":"hello","user":"u-1"})");
  EXPECT_EQ(b["object"], "list");
  EXPECT_EQ(b["model"], "fake-model");
  ASSERT_EQ(b["data"].size(), 1u);
  EXPECT_EQ(b["data"][0]["object"], "embedding");
  EXPECT_EQ(b["data"][0]["index"], 0);
  ASSERT_EQ(b["data"][0]["embedding"].size(), 8u);
  double sum = 0;
  for (const auto& x : b["data"][0]["embedding"]) sum += x.get<double>() * x.get<double>();
  EXPECT_NEAR(sum, 1.0, 1e-5);
  EXPECT_EQ(b["usage"], json({{"prompt_tokens", 5}, {"total_tokens", 5}}));
}

TEST_F(ApiEmbeddingsTest, ABatchKeepsItsOrderAndTokenArraysAreInputsToo) {
  const json batch = embed(R"({"input":["alpha","beta","alpha"]})");
  ASSERT_EQ(batch["data"].size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(batch["data"][i]["index"], i);
  EXPECT_EQ(batch["data"][0]["embedding"], batch["data"][2]["embedding"]);
  EXPECT_NE(batch["data"][0]["embedding"], batch["data"][1]["embedding"]);
  EXPECT_EQ(embed(R"({"input":"beta"})")["data"][0]["embedding"], batch["data"][1]["embedding"]);
  EXPECT_EQ(batch["usage"]["prompt_tokens"], 14);

  // "beta" is the fake's tokens 98 101 116 97.
  const json ids = embed(R"({"input":[98,101,116,97]})");
  EXPECT_EQ(ids["data"][0]["embedding"], batch["data"][1]["embedding"]);
  const json id_batch = embed(R"({"input":[[98,101,116,97],[97,108,112,104,97]]})");
  ASSERT_EQ(id_batch["data"].size(), 2u);
  EXPECT_EQ(id_batch["data"][0]["embedding"], batch["data"][1]["embedding"]);
  EXPECT_EQ(id_batch["data"][1]["embedding"], batch["data"][0]["embedding"]);
}

TEST_F(ApiEmbeddingsTest, Base64IsTheFloatVectorsLittleEndianBytes) {
  const json floats = embed(R"({"input":["alpha","beta"],"encoding_format":"float"})");
  const json packed = embed(R"({"input":["alpha","beta"],"encoding_format":"base64"})");
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(packed["data"][i]["embedding"].is_string());
    const auto decoded =
        little_endian_floats(decode_base64(packed["data"][i]["embedding"].get<std::string>()));
    ASSERT_EQ(decoded.size(), 8u);
    for (std::size_t k = 0; k < decoded.size(); ++k) {
      EXPECT_EQ(decoded[k], floats["data"][i]["embedding"][k].get<float>()) << i << " " << k;
    }
  }
}

TEST_F(ApiEmbeddingsTest, DimensionsOnlyAtTheModelsSize) {
  EXPECT_EQ(embed(R"({"input":"x","dimensions":8})")["data"][0]["embedding"].size(), 8u);
  expect_refused("/v1/embeddings", R"({"input":"x","dimensions":4})", "dimensions");
  expect_refused("/v1/embeddings", R"({"input":"x","dimensions":0})", "dimensions");
}

TEST_F(ApiEmbeddingsTest, EachBadArgumentIsRefusedByName) {
  const std::string path = "/v1/embeddings";
  expect_refused(path, R"({})", "input");
  expect_refused(path, R"({"input":5})", "input");
  expect_refused(path, R"({"input":[]})", "input");
  expect_refused(path, R"({"input":["a",{}]})", "input[1]");
  expect_refused(path, R"({"input":[1,"a"]})", "input[1]");
  expect_refused(path, R"({"input":[1,-2]})", "input[1]");
  expect_refused(path, R"({"input":[[1],["a"]]})", "input[1][0]");
  expect_refused(path, R"({"input":"x","encoding_format":"hex"})", "encoding_format");
  expect_refused(path, R"({"input":"x","user":5})", "user");
  expect_refused(path, R"({"input":"x","model":5})", "model");
  expect_refused(path, R"({"input":"x","temperature":1})", "temperature", "unknown_argument");
  // Inference's refusals name the input as the request did.
  expect_refused(path, R"({"input":"too long"})", "input");
  expect_refused(path, R"({"input":["fine","too long"]})", "input[1]");
}

TEST_F(ApiEmbeddingsTest, TokenizeInLlamaServersShape) {
  auto tokenize = [&](const std::string& body) {
    auto r = api.handle(post("/tokenize", body));
    EXPECT_EQ(r.status, 200) << r.body;
    return body_of(r);
  };
  EXPECT_EQ(tokenize(R"({"content":"Hi"})"), json::parse(R"({"tokens":[72,105]})"));
  EXPECT_EQ(tokenize(R"({"content":"Hi","add_special":true})"),
            json::parse(R"({"tokens":[1,72,105]})"));
  EXPECT_EQ(tokenize(R"({"content":"Hi","with_pieces":true,"parse_special":false})"),
            json::parse(R"({"tokens":[{"id":72,"piece":"H"},{"id":105,"piece":"i"}]})"));
  // A character split over tokens: each piece's bytes, as llama-server gives them.
  EXPECT_EQ(tokenize("{\"content\":\"\xc3\xa1\",\"with_pieces\":true}"),
            json::parse(R"({"tokens":[{"id":195,"piece":[195]},{"id":161,"piece":[161]}]})"));
  expect_refused("/tokenize", R"({})", "content");
  expect_refused("/tokenize", R"({"content":1})", "content");
  expect_refused("/tokenize", R"({"content":"x","add_special":"yes"})", "add_special");
  expect_refused("/tokenize", R"({"content":"x","with_piece":true})", "with_piece",
                 "unknown_argument");
}

TEST_F(ApiEmbeddingsTest, DetokenizeInLlamaServersShape) {
  auto r = api.handle(post("/detokenize", R"({"tokens":[72,105]})"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r), json::parse(R"({"content":"Hi"})"));
  expect_refused("/detokenize", R"({"tokens":[72,300]})", "tokens[1]");
  expect_refused("/detokenize", R"({"tokens":[72,5000000000]})", "tokens[1]");
  expect_refused("/detokenize", R"({"tokens":[1.5]})", "tokens[0]");
  expect_refused("/detokenize", R"({"tokens":"Hi"})", "tokens");
  expect_refused("/detokenize", R"({})", "tokens");
  expect_refused("/detokenize", R"({"tokens":[],"content":"x"})", "content", "unknown_argument");
}

}  // namespace
}  // namespace tandem::api
