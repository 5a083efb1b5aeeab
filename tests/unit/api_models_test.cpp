// The API over a router of several models (fake backends): requests routed by `model`, 404 for
// an unknown one naming what exists, keep_alive validated, the router routes and their events.
#include <gtest/gtest.h>

#include <future>

#include "service/api/api.h"
#include "tests/support/api_calls.h"
#include "tests/support/fake_backend.h"

namespace tandem::api {
namespace {

using namespace std::chrono_literals;
using testing::body_of;
using testing::expect_error;
using testing::json;
using testing::post;

class ApiModelsTest : public ::testing::Test {
 protected:
  ApiModelsTest()
      : router_(models::RouterOptions{}, [this](const models::CatalogEntry& e) {
          if (e.id == "broken")
            throw Error("tensor 'output.weight' data is not within file bounds");
          auto b = std::make_shared<testing::FakeBackend>();
          b->pieces = {e.id};  // answers with its own name
          ++loads_;
          return b;
        }) {
    auto main = std::make_shared<testing::FakeBackend>();
    main->pieces = {"main"};
    models::CatalogEntry d;
    d.id = "main";
    router_.set_default(d, main);
    models::CatalogEntry a;
    a.id = "alpha";
    a.bytes = 1234;
    a.settings.aliases = {"gpt-4o"};
    models::CatalogEntry broken;
    broken.id = "broken";
    router_.set_catalog({a, broken});
    api_.set_router(&router_);
  }

  std::string text_of(const std::string& body) {
    auto r = api_.handle(post("/v1/completions", body));
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return "";
    return body_of(r)["choices"][0]["text"];
  }

  std::atomic<int> loads_{0};
  models::ModelRouter router_;
  Api api_{nullptr, ApiOptions{"i", "", {}, {}}};
};

TEST_F(ApiModelsTest, RequestsGoToTheModelTheyName) {
  EXPECT_EQ(text_of(R"({"prompt":"x","max_tokens":1})"), "main");
  EXPECT_EQ(text_of(R"({"model":"main","prompt":"x","max_tokens":1})"), "main");
  EXPECT_EQ(text_of(R"({"model":"alpha","prompt":"x","max_tokens":1})"), "alpha");
  EXPECT_EQ(text_of(R"({"model":"gpt-4o","prompt":"x","max_tokens":1})"), "alpha");
  EXPECT_EQ(loads_, 1);
}

TEST_F(ApiModelsTest, AnUnknownModelIs404NamingTheModelsThatExist) {
  auto r = api_.handle(post("/v1/chat/completions",
                            R"({"model":"llama3","messages":[{"role":"user","content":"x"}]})"));
  expect_error(r, 404, "model_not_found");
  const json b = body_of(r);
  EXPECT_EQ(b["error"]["param"], "model");
  EXPECT_NE(b["error"]["message"].get<std::string>().find("alpha, broken, main (default)"),
            std::string::npos)
      << r.body;
}

TEST_F(ApiModelsTest, AModelThatFailsToLoadSaysWhyAndTheOthersServe) {
  auto r = api_.handle(post("/v1/completions", R"({"model":"broken","prompt":"x"})"));
  expect_error(r, 500, "model_load_failed");
  EXPECT_NE(r.body.find("not within file bounds"), std::string::npos) << r.body;
  EXPECT_EQ(text_of(R"({"model":"alpha","prompt":"x","max_tokens":1})"), "alpha");
  const json list = body_of(api_.handle(testing::make("GET", "/v1/models")));
  ASSERT_EQ(list["data"].size(), 3u);
  EXPECT_EQ(list["data"][0]["id"], "main");
  EXPECT_EQ(list["data"][0]["status"]["value"], "loaded");
  EXPECT_EQ(list["data"][1]["id"], "alpha");
  EXPECT_EQ(list["data"][1]["size_bytes"], 1234);
  EXPECT_EQ(list["data"][2]["status"]["value"], "failed");
  EXPECT_NE(list["data"][2]["status"]["error"].get<std::string>().find("file bounds"),
            std::string::npos);
}

TEST_F(ApiModelsTest, KeepAliveIsValidatedAndHonoured) {
  auto bad =
      api_.handle(post("/v1/completions", R"({"model":"alpha","prompt":"x","keep_alive":"soon"})"));
  expect_error(bad, 400, "invalid_value");
  EXPECT_EQ(body_of(bad)["error"]["param"], "keep_alive");
  EXPECT_EQ(loads_, 0);  // refused before loading anything
  EXPECT_EQ(text_of(R"({"model":"alpha","prompt":"x","max_tokens":1,"keep_alive":0})"), "alpha");
  EXPECT_EQ(router_.list()[1].state, models::ModelState::unloaded);  // 0: unloaded once idle
}

TEST_F(ApiModelsTest, LoadAndUnloadRoutes) {
  auto r = api_.handle(post("/models/load", R"({"model":"alpha"})"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(router_.list()[1].state, models::ModelState::loaded);
  r = api_.handle(post("/models/unload", R"({"model":"alpha"})"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(router_.list()[1].state, models::ModelState::unloaded);
  expect_error(api_.handle(post("/models/load", R"({"model":"nope"})")), 404, "model_not_found");
  expect_error(api_.handle(post("/models/load", R"({})")), 400, "invalid_value");
  expect_error(api_.handle(post("/models/load", R"({"model":"alpha","ctx":1})")), 400,
               "unknown_argument");
  expect_error(api_.handle(post("/models/unload", R"({"model":"main"})")), 400, "invalid_value");
  const json list = body_of(api_.handle(testing::make("GET", "/models")));
  EXPECT_EQ(list["data"].size(), 3u);
}

TEST_F(ApiModelsTest, EventsStreamTheStatesThenEachChange) {
  auto r = api_.handle(testing::make("GET", "/models/events"));
  ASSERT_TRUE(r.stream);
  std::promise<void> listed;
  std::vector<json> events;
  auto reader = std::async(std::launch::async, [&] {
    r.stream([&](std::string_view chunk) {
      if (chunk.rfind("data: ", 0) != 0) return true;  // a keep-alive comment
      events.push_back(json::parse(chunk.substr(6)));
      if (events.size() == 3) listed.set_value();
      // alpha loading, then loaded: enough.
      return !(events.back()["model"]["id"] == "alpha" &&
               events.back()["model"]["status"]["value"] == "loaded");
    });
  });
  ASSERT_EQ(listed.get_future().wait_for(10s), std::future_status::ready);
  EXPECT_EQ(text_of(R"({"model":"alpha","prompt":"x","max_tokens":1})"), "alpha");
  ASSERT_EQ(reader.wait_for(10s), std::future_status::ready);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[3]["model"]["status"]["value"], "loading");
  EXPECT_EQ(events[4]["model"]["status"]["value"], "loaded");
}

}  // namespace
}  // namespace tandem::api
