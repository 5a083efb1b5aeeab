// TandemLlm serving a folder of models (issue #19), in process with real sockets and llama.cpp
// on tiny GGUFs of different shapes: routed by name, loaded on first use, evicted past
// max_loaded_models, a corrupt file and a file still being copied, a file added while running
// (seen through the folder's notification), 64 clients over 3 models. Waits are on the
// server's /models/events stream, never sleeps.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <future>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "common/http_client.h"
#ifdef _WIN32
#include "common/win32/file_in_use.h"
#include "common/win32/folder_watch.h"
#else
#include <sys/socket.h>

#include "common/posix/dir_watch.h"
#include "common/posix/file_in_use.h"
#endif
#include "ctl/platform.h"
#include "inference/tiny_model.h"
#include "tests/support/in_process_llm.h"
#include "tests/support/raw_http_client.h"

namespace tandem {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

void make_model(const std::filesystem::path& file, std::uint32_t n_embd, std::uint32_t n_layer) {
  inference::TinyModelSpec spec;
  spec.n_embd = n_embd;
  spec.n_layer = n_layer;
  spec.n_ff = n_embd * 2;
  spec.seed = n_embd + n_layer;
  inference::make_tiny_model(TANDEM_TEST_VOCAB, file, spec);
}

class ModelsFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(models_);
    make_model(models_ / "alpha.gguf", 32, 1);
    make_model(models_ / "beta.gguf", 48, 2);
    make_model(models_ / "gamma.gguf", 64, 1);
  }

  void start(json config = json::object(), std::function<void(llm::ServiceOptions&)> more = {}) {
    config["models_dir"] = path_utf8(models_);
    llm_ = std::make_unique<testing::InProcessLlm>(config, [more](llm::ServiceOptions& o) {
    // The platform's own parts, as its main injects them.
#ifdef _WIN32
      o.still_written = win32::open_for_writing;
      o.make_watch = [](const std::filesystem::path& f) {
        return std::make_unique<win32::ChangeNotificationWatch>(f);
      };
#else
      o.still_written = posix::open_for_writing;
      o.make_watch = [](const std::filesystem::path& f) {
        return std::make_unique<posix::DirWatch>(f);
      };
#endif
      if (more) more(o);
    });
    client_ = std::make_unique<HttpClient>(llm_->endpoint().url);
  }

  HttpResult complete(const std::string& model) {
    return client_->post_json("/v1/completions",
                              json{{"model", model}, {"prompt", "Once"}, {"max_tokens", 2}}.dump());
  }
  json models() {
    auto r = client_->get("/v1/models");
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body)["data"];
  }
  std::string state(const std::string& id) {
    for (const auto& m : models()) {
      if (m["id"] == id) return m["status"]["value"];
    }
    return "absent";
  }

  // Reads /models/events until `done` holds for an event (bounded). `then` runs once the stream
  // has begun (its first event sent), so no change it makes can be missed.
  bool wait_event(const std::function<bool(const json&)>& done,
                  const std::function<void()>& then = {}) {
    const auto port = llm_->endpoint().port;
    testing::RawHttpConnection c("127.0.0.1", port);
    c.send_request("GET", "/models/events");
    std::promise<bool> seen;
    auto reader = std::async(std::launch::async, [&] {
      bool found = false;
      bool begun = false;
      try {
        c.read_reply([&](const std::string& chunk) {
          if (!begun && then && chunk.find("data: ") != std::string::npos) then();
          begun = true;
          for (std::size_t at = 0; (at = chunk.find("data: ", at)) != std::string::npos;) {
            auto end = chunk.find('\n', at);
            auto event = json::parse(chunk.substr(at + 6, end - at - 6), nullptr, false);
            at = end;
            if (event.is_object() && done(event)) found = true;
          }
          return !found;
        });
      } catch (const std::exception&) {
      }
      return found;
    });
    if (reader.wait_for(60s) != std::future_status::ready) {
#ifdef _WIN32
      ::shutdown(c.socket().native(), SD_BOTH);
#else
      ::shutdown(c.socket().native(), SHUT_RDWR);
#endif
      reader.wait();
      return false;
    }
    return reader.get();
  }

  testing::TempDir dir_;
  std::filesystem::path models_ = dir_ / "models";
  std::unique_ptr<testing::InProcessLlm> llm_;
  std::unique_ptr<HttpClient> client_;
};

bool is(const json& event, const std::string& id, const std::string& value) {
  return event["model"]["id"] == id && event["model"]["status"]["value"] == value;
}

TEST_F(ModelsFolderTest, ModelsOfDifferentShapesAreServedByNameAndEvictedLeastRecentlyUsed) {
  start({{"max_loaded_models", 2}});
  auto listed = models();
  ASSERT_EQ(listed.size(), 4u) << listed.dump();
  EXPECT_EQ(listed[0]["default"], true);
  EXPECT_EQ(state("alpha"), "unloaded");
  auto r = complete("alpha");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["model"], "alpha");
  EXPECT_EQ(state("alpha"), "loaded");
  r = complete("beta");  // the default and alpha fill both places: alpha goes
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(state("alpha"), "unloaded");
  EXPECT_EQ(state("beta"), "loaded");
  // The publication (registry, pipe, runtime file) names the models loaded now.
  EXPECT_TRUE(llm_->wait_publication([&](const discovery::Endpoint& e) {
    return e.loaded_models == std::vector<std::string>{listed[0]["id"], "beta"};
  })) << "no publication names the default and beta as loaded";
  // The default model still answers without a name.
  r = client_->post_json("/v1/completions", R"({"prompt":"Once","max_tokens":2})");
  EXPECT_EQ(r.status, 200) << r.body;
  r = complete("nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("alpha, beta, gamma"), std::string::npos) << r.body;
}

TEST_F(ModelsFolderTest, ACorruptFileFailsAloneAndAFileStillBeingWrittenWaitsForItsWriter) {
  write_file_atomically(models_ / "broken.gguf", std::string("GGUF") + std::string(64, '\x7f'));
  std::ofstream partial(models_ / "late.gguf", std::ios::binary);
  partial << "GGUF";  // a copy in progress
  partial.flush();
  start();
  auto r = complete("broken");
  EXPECT_EQ(r.status, 500) << r.body;
  EXPECT_NE(r.body.find("model_load_failed"), std::string::npos) << r.body;
  EXPECT_EQ(state("broken"), "failed");
  EXPECT_EQ(complete("gamma").status, 200);
  EXPECT_EQ(state("late"), "absent");  // not listed while its writer has it open
  EXPECT_EQ(complete("late").status, 404);
  partial << read_file(models_ / "alpha.gguf").substr(4);
  ASSERT_TRUE(wait_event([](const json& e) { return e["model"]["id"] == "late"; },
                         [&] { partial.close(); }))
      << "the closed copy was not seen";
  r = complete("late");
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(ModelsFolderTest, AModelCopiedInWhileRunningIsSeenWithoutARestart) {
  start();
  make_model(dir_ / "delta.tmp", 32, 2);
  // Copied elsewhere, then moved in: the way installers and careful users add a file.
  ASSERT_TRUE(
      wait_event([](const json& e) { return is(e, "delta", "unloaded"); },
                 [&] { std::filesystem::rename(dir_ / "delta.tmp", models_ / "delta.gguf"); }));
  EXPECT_EQ(state("delta"), "unloaded");
  ASSERT_TRUE(wait_event([](const json& e) { return is(e, "delta", "removed"); },
                         [&] { std::filesystem::remove(models_ / "delta.gguf"); }));
  EXPECT_EQ(state("delta"), "absent");
}

TEST_F(ModelsFolderTest, SixtyFourClientsOverThreeModelsWithTwoPlacesAreEachAnswered) {
  start({{"max_loaded_models", 2}, {"parallel", 2}, {"queue_limit", 64}});
  std::atomic<int> ok{0}, unavailable{0};
  std::vector<std::string> other;
  std::mutex other_mutex;
  std::vector<std::thread> clients;
  for (int i = 0; i < 64; ++i) {
    clients.emplace_back([&, i] {
      HttpClient c(llm_->endpoint().url);
      const char* names[] = {"alpha", "beta", "gamma"};
      auto r =
          c.post_json("/v1/completions",
                      json{{"model", names[i % 3]}, {"prompt", "Once"}, {"max_tokens", 2}}.dump());
      if (r.status == 200) {
        ++ok;
      } else if (r.status == 503 && r.body.find("\"code\":\"") != std::string::npos) {
        ++unavailable;
      } else {
        std::lock_guard lock(other_mutex);
        other.push_back(std::to_string(r.status) + " " + r.body);
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_TRUE(other.empty()) << other.front();
  EXPECT_EQ(ok + unavailable, 64);
  EXPECT_GT(ok, 0);
  int loaded = 0;
  for (const auto& m : models()) loaded += m["status"]["value"] == "loaded";
  EXPECT_LE(loaded, 2);
}

TEST_F(ModelsFolderTest, AModelThatCannotFitIsRefusedWithWhatItNeedsAndWhatIsFree) {
  start(json::object(), [](llm::ServiceOptions& o) {
    o.available_memory = [] { return std::optional<std::uint64_t>(1 << 20); };
  });
  auto r = complete("alpha");
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_NE(r.body.find("needs about"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("1.0 MiB is free"), std::string::npos) << r.body;
  EXPECT_EQ(state("alpha"), "unloaded");
  EXPECT_EQ(complete("").status, 200);  // the default serves on
}

// Saved in place, as Notepad saves: Wine (like older Windows) refuses to replace a file another
// process has open, so an atomic replace here would race the server's own read of it.
void save_in_place(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
}

TEST_F(ModelsFolderTest, AChangedConfigIsAppliedWithoutARestart) {
  start();
  json config = json::parse(read_file(llm_->config_file()));
  config["keep_alive"] = 0;
  config["model"] = path_utf8(models_ / "gamma.gguf");
  save_in_place(llm_->config_file(), config.dump());
  ASSERT_TRUE(llm_->wait_publication([](const discovery::Endpoint& e) {
    return e.model == "gamma";
  })) << "the new default model was not published";
  auto r = complete("alpha");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(state("alpha"), "unloaded");  // keep_alive 0: unloaded as its request ended
  // An invalid file changes nothing.
  save_in_place(llm_->config_file(), "{\"keep_alive\": \"soon\"}");
  save_in_place(llm_->config_file(), config.dump());
  EXPECT_EQ(complete("").status, 200);
}

// Output captured in files of the test's folder.
struct Ctl {
  int code;
  std::string out, err;
};

TEST_F(ModelsFolderTest, TandemctlListsLoadsAndUnloadsTheModels) {
  start();
  auto run = [&](std::vector<std::string> words) {
    ctl::Platform p;
    p.make_resolver = [&] {
      auto r = std::make_unique<testing::ScriptedResolver>();
      r->set(llm_->endpoint());
      return r;
    };
    p.llm_config = dir_ / "absent-llm-server.json";  // defaults: no API key
    p.out = std::fopen((dir_ / "out.txt").string().c_str(), "w+b");
    p.err = std::fopen((dir_ / "err.txt").string().c_str(), "w+b");
    const int code = ctl::run_tandemctl(std::move(words), p);
    std::fclose(p.out);
    std::fclose(p.err);
    return Ctl{code, read_file(dir_ / "out.txt"), read_file(dir_ / "err.txt")};
  };
  auto r = run({"models", "load", "beta"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "beta loaded\n");
  EXPECT_EQ(state("beta"), "loaded");
  r = run({"models", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto listed = json::parse(r.out);
  ASSERT_EQ(listed.size(), 4u);
  EXPECT_EQ(listed[2]["id"], "beta");
  EXPECT_EQ(listed[2]["status"]["value"], "loaded");
  r = run({"models"});
  EXPECT_NE(r.out.find("beta                     loaded"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("default"), std::string::npos) << r.out;
  r = run({"models", "unload", "beta"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(state("beta"), "unloaded");
  r = run({"models", "load", "nope"});
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("model 'nope' does not exist"), std::string::npos) << r.err;
  EXPECT_EQ(run({"models", "reload", "beta"}).code, 2);
}

}  // namespace
}  // namespace tandem
