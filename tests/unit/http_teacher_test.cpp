#include "trainer/http_teacher.h"

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/unit/llm_client_test_support.h"

namespace tandem::trainer {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::reply_json;
using testing::ScriptedResolver;
using testing::ScriptedServer;

// An echo response whose tokens are `pieces` (concatenated: the text) with these log-probs.
json echo(const std::vector<std::string>& pieces, const std::vector<json>& logprobs) {
  std::string text;
  json offsets = json::array();
  for (const auto& p : pieces) {
    offsets.push_back(text.size());
    text += p;
  }
  return {{"object", "text_completion"},
          {"choices",
           {{{"index", 0},
             {"text", text},
             {"finish_reason", "length"},
             {"logprobs",
              {{"tokens", pieces}, {"token_logprobs", logprobs}, {"text_offset", offsets}}}}}}};
}

std::string error_for(const std::string& body, const std::string& label) {
  try {
    label_logprob_from_echo(body, label);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(LabelLogprob, SumsOnlyTheTokensOfTheLabel) {
  auto r = echo({"Review", ":", " great", "\nLabel", ":", " pos", "itive"},
                {nullptr, -1.0, -2.0, -3.0, -4.0, -0.5, -0.25});
  EXPECT_DOUBLE_EQ(label_logprob_from_echo(r.dump(), "positive"), -0.75);
}

TEST(LabelLogprob, ATokenStraddlingThePromptEndCounts) {
  // ": p" covers the space before the label: it is part of the label's likelihood.
  auto r = echo({"Label", ": p", "os"}, {nullptr, -1.5, -0.5});
  EXPECT_DOUBLE_EQ(label_logprob_from_echo(r.dump(), "pos"), -2.0);
}

TEST(LabelLogprob, EchoedTextWithAnotherPrefixStillScoresTheLabel) {
  // A server may echo a BOS piece or a leading space; the label is found from the end.
  auto r = echo({"<s>", " Label", ":", " yes"}, {nullptr, -9.0, -9.0, -0.125});
  EXPECT_DOUBLE_EQ(label_logprob_from_echo(r.dump(), "yes"), -0.125);
}

TEST(LabelLogprob, MalformedResponsesNameTheField) {
  const auto good = echo({"Label", ":", " pos"}, {nullptr, -1.0, -0.5});
  struct Case {
    std::string body;
    std::string expected;
  };
  auto without = [&](const std::string& key) {
    json j = good;
    j["choices"][0]["logprobs"].erase(key);
    return j.dump();
  };
  auto with = [&](const json::json_pointer& at, json value) {
    json j = good;
    j[at] = std::move(value);
    return j.dump();
  };
  const std::vector<Case> cases = {
      {"not json", "the response is not JSON"},
      {"[1]", "the response must be an object"},
      {"{}", "choices is missing"},
      {R"({"choices":[]})", "choices is empty"},
      {R"({"choices":[3]})", "choices[0] must be an object"},
      {with("/choices/0/text"_json_pointer, 5), "choices[0].text must be a string"},
      {with("/choices/0/logprobs"_json_pointer, nullptr),
       "choices[0].logprobs must be an object, not null"},
      {without("text_offset"), "choices[0].logprobs.text_offset is missing"},
      {without("token_logprobs"), "choices[0].logprobs.token_logprobs is missing"},
      {with("/choices/0/logprobs/tokens"_json_pointer, json::array({"Label"})),
       "has 1 tokens, 3 token_logprobs and 3 text_offset entries"},
      {with("/choices/0/logprobs/token_logprobs/2"_json_pointer, nullptr),
       "choices[0].logprobs.token_logprobs[2] is null for a token of the label"},
      {with("/choices/0/logprobs/token_logprobs/2"_json_pointer, "x"),
       "choices[0].logprobs.token_logprobs[2] must be a number, not a string"},
      {with("/choices/0/logprobs/text_offset/1"_json_pointer, 99),
       "choices[0].logprobs.text_offset[1] is 99, outside the 10-byte text"},
      {with("/choices/0/logprobs/text_offset/2"_json_pointer, 2),
       "choices[0].logprobs.text_offset[2] goes backwards"},
      {with("/choices/0/logprobs/text_offset/2"_json_pointer, 1.5),
       "choices[0].logprobs.text_offset[2] must be an integer"},
      {with("/choices/0/text"_json_pointer, "Label: neg"),
       "choices[0].text does not end with the label"},
  };
  for (const auto& c : cases) {
    const auto what = error_for(c.body, "pos");
    EXPECT_NE(what.find(c.expected), std::string::npos) << "got: " << what;
    EXPECT_NE(what.find("label 'pos'"), std::string::npos) << what;
  }
}

TEST(LabelLogprob, NoTokenCoveringTheLabelIsAnErrorNamingIt) {
  auto r = echo({}, {});
  r["choices"][0]["text"] = "Label: pos";
  const auto what = error_for(r.dump(), "pos");
  EXPECT_NE(what.find("no token covering \" pos\""), std::string::npos) << what;
  EXPECT_NE(what.find("label 'pos'"), std::string::npos) << what;
}

// What TandemLlm does for the scoring call: tokens split before each space, each scored
// -(its length in bytes), the first one null.
void score_like_a_server(const httplib::Request& req, httplib::Response& res) {
  const json request = json::parse(req.body);
  const bool as_expected = request.at("echo") == true && request.at("logprobs") == 0 &&
                           request.at("max_tokens") == 0 && request.at("temperature") == 0 &&
                           (!request.contains("model") || request.at("model") == "labeller");
  if (!as_expected) {
    reply_json(res, 400, R"({"error":{"message":"unexpected request fields"}})");
    return;
  }
  const std::string text = request.at("prompt");
  std::vector<std::string> pieces;
  for (char c : text) {
    if (c == ' ' || pieces.empty()) pieces.emplace_back();
    pieces.back() += c;
  }
  std::vector<json> logprobs;
  for (const auto& p : pieces) {
    logprobs.push_back(logprobs.empty() ? json(nullptr) : json(-static_cast<double>(p.size())));
  }
  reply_json(res, 200, echo(pieces, logprobs).dump());
}

LlmClientOptions fast_options() {
  LlmClientOptions o;
  o.max_retries = 2;
  o.backoff_base = 1ms;
  o.backoff_max = 2ms;
  o.jitter_seed = 1;
  return o;
}

TEST(HttpTeacher, ScoresEachLabelWithTheEchoCall) {
  ScriptedServer server(score_like_a_server);
  ScriptedResolver resolver;
  resolver.publish(server.port());
  LlmClient client(resolver, fast_options());
  HttpTeacher teacher(client);
  auto scores = teacher.score_labels(
      "", "Review: great film\nLabel:", {"very positive", "negative", "ok"}, {});
  ASSERT_EQ(scores.size(), 3u);
  EXPECT_DOUBLE_EQ(scores[0], -14.0);  // " very" + " positive"
  EXPECT_DOUBLE_EQ(scores[1], -9.0);
  EXPECT_DOUBLE_EQ(scores[2], -3.0);
  EXPECT_EQ(server.hits(), 3);
  EXPECT_TRUE(teacher.score_labels("", "x", {}, {}).empty());
  // The model a job names is asked (the scripted server knows only "labeller").
  EXPECT_EQ(teacher.score_labels("labeller", "Label:", {"pos"}, {}).size(), 1u);
  EXPECT_THROW(teacher.score_labels("other", "Label:", {"pos"}, {}), Error);
}

TEST(HttpTeacher, AMalformedAnswerIsAnErrorNamingTheField) {
  ScriptedServer server([](const httplib::Request&, httplib::Response& res) {
    auto r = echo({"Label", ":", " pos"}, {nullptr, -1.0, -0.5});
    r["choices"][0]["logprobs"].erase("text_offset");
    reply_json(res, 200, r.dump());
  });
  ScriptedResolver resolver;
  resolver.publish(server.port());
  LlmClient client(resolver, fast_options());
  HttpTeacher teacher(client);
  try {
    teacher.score_labels("", "Label:", {"pos"}, {});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("choices[0].logprobs.text_offset is missing"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(server.hits(), 1);  // a malformed 200 is not retried
}

TEST(HttpTeacher, AServerThatRefusesEchoSaysSo) {
  ScriptedServer server([](const httplib::Request&, httplib::Response& res) {
    reply_json(res, 400, R"({"error":{"message":"'echo': echoing the prompt is not supported"}})");
  });
  ScriptedResolver resolver;
  resolver.publish(server.port());
  LlmClient client(resolver, fast_options());
  HttpTeacher teacher(client);
  try {
    teacher.score_labels("", "Label:", {"pos", "neg"}, {});
    FAIL() << "no error";
  } catch (const RequestRefused& e) {
    EXPECT_NE(std::string(e.what()).find("echoing the prompt is not supported"), std::string::npos);
  }
  EXPECT_EQ(server.hits(), 1);
}

TEST(HttpTeacher, InvalidUtf8PromptIsReported) {
  ScriptedResolver resolver;
  LlmClient client(resolver, fast_options());
  HttpTeacher teacher(client);
  EXPECT_THROW(teacher.score_labels("", "bad \xff byte", {"pos"}, {}), Error);
  EXPECT_EQ(resolver.resolves(), 0);
}

}  // namespace
}  // namespace tandem::trainer
