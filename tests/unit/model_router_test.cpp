// The models router with fake backends: load once under concurrent first use, LRU eviction that
// never takes a busy model, idle unload, failures that leave the rest serving. Waits are on the
// router's own state-change events, never sleeps.
#include "service/models/model_router.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <set>
#include <thread>

#include "tests/support/fake_backend.h"

namespace tandem::models {
namespace {

using namespace std::chrono_literals;
using testing::FakeBackend;

CatalogEntry entry(const std::string& id, std::uint64_t bytes = 100) {
  CatalogEntry e;
  e.id = id;
  e.file = "/models/" + id + ".gguf";
  e.bytes = bytes;
  return e;
}

struct Fixture {
  std::mutex mutex;
  std::map<std::string, int> loads;
  std::function<void(const CatalogEntry&)> before_load;
  ModelRouter router;

  explicit Fixture(RouterOptions options = {})
      : router(options, [this](const CatalogEntry& e) -> std::shared_ptr<ModelRouter::Backend> {
          if (before_load) before_load(e);
          std::lock_guard lock(mutex);
          ++loads[e.id];
          return std::make_shared<FakeBackend>();
        }) {
    router.set_default(entry("main"), std::make_shared<FakeBackend>());
    router.set_catalog({entry("a"), entry("b"), entry("c")});
  }

  int load_count(const std::string& id) {
    std::lock_guard lock(mutex);
    return loads[id];
  }
  ModelState state(const std::string& id) {
    for (const auto& m : router.list()) {
      if (m.id == id) return m.state;
    }
    ADD_FAILURE() << "no model " << id;
    return ModelState::failed;
  }
  // Waits (bounded) for `id` to reach `state`, through the router's events.
  bool wait_state(const std::string& id, ModelState want, std::chrono::milliseconds bound = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    std::uint64_t seen = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (state(id) == want) return true;
      const auto events = router.events_after(seen, 500ms);
      if (!events.empty()) seen = events.back().seq;
    }
    return state(id) == want;
  }
};

TEST(ModelRouter, TheDefaultIsLoadedAndAnsweredForAnEmptyName) {
  Fixture f;
  auto lease = f.router.acquire("");
  ASSERT_NE(lease.get(), nullptr);
  EXPECT_EQ(f.router.list().front().id, "main");
  EXPECT_TRUE(f.router.list().front().is_default);
  EXPECT_EQ(f.state("a"), ModelState::unloaded);
  EXPECT_EQ(f.load_count("a"), 0);
}

TEST(ModelRouter, ConcurrentFirstRequestsLoadTheModelOnce) {
  Fixture f;
  std::promise<void> release_load;
  auto released = release_load.get_future().share();
  f.before_load = [&](const CatalogEntry&) { released.wait(); };
  std::vector<std::future<ModelRouter::Backend*>> clients;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(std::async(std::launch::async, [&] { return f.router.acquire("a").get(); }));
  }
  ASSERT_TRUE(f.wait_state("a", ModelState::loading));
  release_load.set_value();
  std::set<ModelRouter::Backend*> backends;
  for (auto& c : clients) backends.insert(c.get());
  EXPECT_EQ(f.load_count("a"), 1);
  EXPECT_EQ(backends.size(), 1u);  // every request got the one loaded model
  EXPECT_EQ(f.state("a"), ModelState::loaded);
}

TEST(ModelRouter, EvictsTheLeastRecentlyUsedIdleModel) {
  RouterOptions o;
  o.max_loaded = 3;
  Fixture f(o);
  f.router.acquire("a");
  f.router.acquire("b");
  f.router.acquire("a");  // b is now the least recently used
  f.router.acquire("c");
  EXPECT_EQ(f.state("a"), ModelState::loaded);
  EXPECT_EQ(f.state("b"), ModelState::unloaded);
  EXPECT_EQ(f.state("c"), ModelState::loaded);
  EXPECT_EQ(f.state("main"), ModelState::loaded);  // the default is never evicted
}

TEST(ModelRouter, NeverEvictsAModelWithRequestsInFlight) {
  RouterOptions o;
  o.max_loaded = 2;
  o.wait_for_room = 200ms;
  Fixture f(o);
  auto busy = f.router.acquire("a");
  try {
    f.router.acquire("b");
    FAIL() << "b loaded while a, busy, filled the last place";
  } catch (const ModelUnavailable& e) {
    EXPECT_NE(std::string(e.what()).find("max_loaded_models (2)"), std::string::npos) << e.what();
  }
  EXPECT_EQ(f.state("a"), ModelState::loaded);
  // A request that waits for room gets it when a's request ends.
  o.wait_for_room = 30s;
  Fixture g(o);
  auto held = std::make_unique<ModelRouter::Lease>(g.router.acquire("a"));
  auto waiter = std::async(std::launch::async, [&] { return g.router.acquire("b").get(); });
  EXPECT_EQ(waiter.wait_for(0ms), std::future_status::timeout);
  EXPECT_EQ(g.state("b"), ModelState::unloaded);
  held.reset();
  EXPECT_NE(waiter.get(), nullptr);
  EXPECT_EQ(g.state("a"), ModelState::unloaded);
  EXPECT_EQ(g.state("b"), ModelState::loaded);
}

TEST(ModelRouter, AnIdleModelUnloadsWhenItsKeepAliveRunsOut) {
  Fixture f;
  const auto start = std::chrono::steady_clock::now();
  f.router.acquire("a", KeepAlive(1));
  EXPECT_EQ(f.state("a"), ModelState::loaded);
  ASSERT_TRUE(f.wait_state("a", ModelState::unloaded));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 1s);
  // keep_alive 0: unloaded as its request ends.
  f.router.acquire("b", KeepAlive::zero());
  EXPECT_EQ(f.state("b"), ModelState::unloaded);
  // Negative: kept.
  f.router.acquire("c", kKeepAliveForever);
  EXPECT_EQ(f.state("c"), ModelState::loaded);
}

TEST(ModelRouter, AFailedLoadIsReportedAndTheOthersServe) {
  Fixture f;
  f.before_load = [](const CatalogEntry& e) {
    if (e.id == "b") throw Error("bad magic: not a GGUF file");
  };
  EXPECT_THROW(f.router.acquire("b"), ModelLoadFailed);
  EXPECT_EQ(f.state("b"), ModelState::failed);
  EXPECT_NE(f.router.list()[2].error.find("bad magic"), std::string::npos);
  EXPECT_THROW(f.router.acquire("b"), ModelLoadFailed);  // not tried again for the same file
  EXPECT_NE(f.router.acquire("a").get(), nullptr);
  EXPECT_NE(f.router.acquire("").get(), nullptr);
  // A new file under the same name is tried again.
  f.before_load = nullptr;
  auto fixed = entry("b", 200);
  f.router.set_catalog({entry("a"), fixed, entry("c")});
  EXPECT_EQ(f.state("b"), ModelState::unloaded);
  EXPECT_NE(f.router.acquire("b").get(), nullptr);
}

TEST(ModelRouter, AModelThatDoesNotFitStaysUnloadedWithTheReason) {
  Fixture f;
  f.before_load = [](const CatalogEntry&) { throw ModelUnavailable("needs 9 GiB, 2 GiB free"); };
  EXPECT_THROW(f.router.acquire("a"), ModelUnavailable);
  EXPECT_EQ(f.state("a"), ModelState::unloaded);
  EXPECT_EQ(f.router.list()[1].error, "needs 9 GiB, 2 GiB free");
}

TEST(ModelRouter, AnUnknownNameIsNotFoundNamingWhatExistsAfterOneMoreLook) {
  Fixture f;
  int rescans = 0;
  f.router.set_rescan([&] { ++rescans; });
  try {
    f.router.acquire("gpt-4o");
    FAIL();
  } catch (const ModelNotFound& e) {
    EXPECT_STREQ(e.what(), "model 'gpt-4o' does not exist; models here: a, b, c, main (default)");
  }
  EXPECT_EQ(rescans, 1);
  // A model copied in just before its first request is found by that look.
  f.router.set_rescan([&] { f.router.set_catalog({entry("a"), entry("new")}); });
  EXPECT_NE(f.router.acquire("new").get(), nullptr);
}

TEST(ModelRouter, AliasesNameTheirModel) {
  Fixture f;
  auto a = entry("a");
  a.settings.aliases = {"gpt-4o"};
  f.router.set_catalog({a});
  f.router.acquire("gpt-4o");
  EXPECT_EQ(f.load_count("a"), 1);
}

TEST(ModelRouter, AModelRemovedFromTheFolderGoesOnceIdle) {
  Fixture f;
  auto lease = f.router.acquire("a");
  f.router.set_catalog({entry("b")});
  EXPECT_EQ(f.state("a"), ModelState::loaded);  // its request still runs
  lease = {};
  for (const auto& m : f.router.list()) EXPECT_NE(m.id, "a");
  EXPECT_THROW(f.router.acquire("c"), ModelNotFound);
}

TEST(ModelRouter, ANewDefaultOfTheSameIdOutlivesTheOldOnesLastRequest) {
  Fixture f;
  auto old_request = f.router.acquire("");
  auto next = std::make_shared<FakeBackend>();
  f.router.set_default(entry("main"), next);  // a new file, the same general.name
  EXPECT_EQ(f.router.acquire("").get(), next.get());
  old_request = {};  // the old default's last request ends: it goes, the new one stays
  EXPECT_EQ(f.router.acquire("").get(), next.get());
  EXPECT_EQ(f.state("main"), ModelState::loaded);
}

TEST(ModelRouter, TheDefaultCannotBeUnloaded) {
  Fixture f;
  EXPECT_THROW(f.router.unload("main"), InputError);
  f.router.acquire("a");
  f.router.unload("a");
  EXPECT_EQ(f.state("a"), ModelState::unloaded);
  EXPECT_THROW(f.router.unload("zz"), ModelNotFound);
}

TEST(ModelRouter, SixtyFourClientsOverThreeModelsWithTwoPlacesAreAllAnswered) {
  RouterOptions o;
  o.max_loaded = 2;
  Fixture f(o);
  std::atomic<int> served{0}, unavailable{0}, other{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 64; ++i) {
    clients.emplace_back([&, i] {
      const char* names[] = {"a", "b", "c"};
      try {
        auto lease = f.router.acquire(names[i % 3]);
        lease->complete("x", {});
        ++served;
      } catch (const ModelUnavailable&) {
        ++unavailable;
      } catch (...) {
        ++other;
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(served + unavailable, 64);
  EXPECT_EQ(other, 0);
  EXPECT_GT(served, 0);
  int loaded = 0;
  for (const auto& m : f.router.list()) {
    loaded += m.state == ModelState::loaded;
    EXPECT_EQ(m.in_flight, 0);
  }
  EXPECT_LE(loaded, 2);
}

TEST(ModelCatalog, SplitModelsAreOneAndProjectorsNone) {
  // Covered with files on disk in model_catalog tests; here: the settings file's errors.
  try {
    parse_models_file("models.json", R"({"a": {"ctx_size": 8}})");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("models.json:1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("ctx_size"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_models_file("models.json", R"({"a": {"ctx": 512}})"), InputError);
  EXPECT_THROW(parse_models_file("models.json", R"({"a": {"keep_alive": "soon"}})"), InputError);
  EXPECT_THROW(parse_models_file("models.json", R"({"a": {"n_gpu_layers": -1}})"), InputError);
  EXPECT_THROW(parse_models_file("models.json", R"({"a": {"n_gpu_layers": "all"}})"), InputError);
  EXPECT_EQ(parse_models_file("m", R"({"a": {"n_gpu_layers": 0}})")["a"].n_gpu_layers, 0);
  EXPECT_EQ(parse_models_file("m", R"({"a": {"n_gpu_layers": 99}})")["a"].n_gpu_layers, 99);
  EXPECT_EQ(parse_models_file("m", R"({"a": {"n_gpu_layers": "auto"}})")["a"].n_gpu_layers,
            tandem::kGpuLayersAuto);
  EXPECT_FALSE(parse_models_file("m", R"({"a": {}})")["a"].n_gpu_layers);
  auto s = parse_models_file("m", R"({"a": {"keep_alive": "10m", "aliases": ["x"]}})");
  EXPECT_EQ(s["a"].keep_alive, KeepAlive(600));
  EXPECT_EQ(s["a"].aliases, std::vector<std::string>{"x"});
}

}  // namespace
}  // namespace tandem::models
