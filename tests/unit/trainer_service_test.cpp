// TandemTrainer's service body in one process against a real TandemLlm body (sockets, llama.cpp,
// the echo scoring call): jobs from the spool, status published, the server missing and coming
// back, and stops that end waits at once. The platform parts are the test's own.
#include "trainer/trainer_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>

#include "common/files.h"
#include "tests/support/in_process_llm.h"
#include "tests/support/temp_dir.h"

namespace tandem::trainer {
namespace {

using namespace std::chrono_literals;

class RecordedStatus {
 public:
  void add(const TrainerStatus& s) {
    {
      std::lock_guard lock(mutex_);
      writes_.push_back(s);
    }
    changed_.notify_all();
  }
  // The first written status satisfying `done`, within `timeout`.
  std::optional<TrainerStatus> wait_for(const std::function<bool(const TrainerStatus&)>& done,
                                        std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    std::optional<TrainerStatus> found;
    changed_.wait_for(lock, timeout, [&] {
      for (const auto& s : writes_) {
        if (done(s)) {
          found = s;
          return true;
        }
      }
      return false;
    });
    return found;
  }
  TrainerStatus last() {
    std::lock_guard lock(mutex_);
    return writes_.empty() ? TrainerStatus{} : writes_.back();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<TrainerStatus> writes_;
};

class RecordingPublication final : public StatusPublication {
 public:
  explicit RecordingPublication(RecordedStatus& r) : r_(r) {}
  void write(const TrainerStatus& status) override { r_.add(status); }

 private:
  RecordedStatus& r_;
};

// The inbox's change notification, which the test gives after it drops a job. Pokes made while
// nobody waits count for the next wait, as a real notification's do.
struct Pokes {
  std::mutex mutex;
  std::condition_variable_any changed;
  std::uint64_t count = 0;
  void poke() {
    {
      std::lock_guard lock(mutex);
      ++count;
    }
    changed.notify_all();
  }
};

class PokedWatch final : public FolderWatch {
 public:
  explicit PokedWatch(Pokes& pokes) : pokes_(pokes) {}
  bool wait_for_change(std::chrono::milliseconds timeout, std::stop_token stop) override {
    std::unique_lock lock(pokes_.mutex);
    const auto poked_since = [this] { return pokes_.count != seen_; };
    const bool poked = timeout == kWaitForChangeOnly
                           ? pokes_.changed.wait(lock, stop, poked_since)
                           : pokes_.changed.wait_for(lock, stop, timeout, poked_since);
    seen_ = pokes_.count;
    return poked;
  }

 private:
  Pokes& pokes_;
  std::uint64_t seen_ = 0;
};

class NoLauncher final : public ProcessLauncher {
 public:
  ProcessExit run(const ProcessSpec&, const LineCallback&, std::stop_token) override {
    throw Error("no processes in this test");
  }
};

class TrainerServiceBody : public ::testing::Test {
 protected:
  TrainerServiceOptions options(const nlohmann::json& config = nlohmann::json::object()) {
    nlohmann::json c = {{"jobs_dir", (dir / "jobs").string()}, {"connect_timeout_ms", 500}};
    c.update(config);
    write_file_atomically(dir / "trainer.json", c.dump());
    TrainerServiceOptions o;
    o.config_file = dir / "trainer.json";
    o.pipe_name = "test-trainer";
    o.make_publication = [this](std::function<TrainerStatus()>) {
      return std::make_unique<RecordingPublication>(recorded);
    };
    o.make_resolver = [this] {
      // The body owns its resolver; the test keeps steering this one.
      struct Forward final : discovery::Resolver {
        testing::ScriptedResolver& r;
        explicit Forward(testing::ScriptedResolver& s) : r(s) {}
        std::optional<discovery::Endpoint> resolve(std::string& why) override {
          return r.resolve(why);
        }
        discovery::Endpoint wait_ready(std::chrono::milliseconds t, std::stop_token s) override {
          return r.wait_ready(t, s);
        }
      };
      return std::make_unique<Forward>(resolver);
    };
    o.make_watch = [this](const std::filesystem::path&) {
      return std::make_unique<PokedWatch>(pokes);
    };
    o.make_launcher = [] { return std::make_unique<NoLauncher>(); };
    o.pause = &pause;
    return o;
  }

  void submit(const std::string& name, int items) {
    std::string text;
    for (int i = 0; i < items; ++i) {
      text += nlohmann::json{{"id", "n" + std::to_string(i)},
                             {"text", "sample text number " + std::to_string(i)}}
                  .dump() +
              "\n";
    }
    write_file_atomically(dir / (name + ".jsonl"), text);
    std::filesystem::create_directories(dir / "jobs" / "inbox");
    write_file_atomically(dir / "jobs" / "inbox" / (name + ".json"),
                          nlohmann::json{{"kind", "distill"},
                                         {"dataset", (dir / (name + ".jsonl")).string()},
                                         {"labels", {"good", "bad"}},
                                         {"epochs", 2}}
                              .dump());
    pokes.poke();
  }

  std::future<int>& start(const TrainerServiceOptions& o) {
    running = std::async(std::launch::async, [this, o] {
      testing::QuietStatus status;
      return run_trainer_service(status, stop, o);
    });
    return running;
  }

  // A failed assertion leaves the test early: the body still has to be told to stop.
  void TearDown() override {
    stop.request();
    if (running.valid()) running.wait();
  }

  testing::TempDir dir;
  RecordedStatus recorded;
  testing::ScriptedResolver resolver;
  Pokes pokes;
  PauseGate pause;
  StopSignal stop;
  std::future<int> running;
};

TEST_F(TrainerServiceBody, RunsADistillJobAgainstTheRealServer) {
  testing::InProcessLlm llm;
  resolver.set(llm.endpoint());
  auto& run = start(options());
  ASSERT_TRUE(recorded.wait_for([](const TrainerStatus& s) { return s.state == "idle"; }, 30s));
  submit("first", 24);
  auto done = recorded.wait_for([](const TrainerStatus& s) { return s.jobs_done == 1; }, 120s);
  ASSERT_TRUE(done) << "last status: " << trainer_status_json(recorded.last()).dump();
  EXPECT_EQ(done->server_url, llm.endpoint().url);
  EXPECT_EQ(done->jobs_failed, 0);
  EXPECT_TRUE(recorded.wait_for(
      [](const TrainerStatus& s) { return s.phase == "label" && s.items_total == 24; }, 1s));

  const auto done_dir = dir / "jobs" / "done";
  std::size_t works = 0;
  for (const auto& entry : std::filesystem::directory_iterator(done_dir)) {
    if (entry.path().extension() != ".work") continue;
    ++works;
    EXPECT_TRUE(std::filesystem::exists(entry.path() / "student.json"));
    auto metrics = nlohmann::json::parse(read_file(entry.path() / "metrics.json"));
    EXPECT_EQ(metrics["items"], 24);
  }
  EXPECT_EQ(works, 1u);

  stop.request();
  ASSERT_EQ(run.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(run.get(), kExitOk);
  EXPECT_EQ(recorded.last().state, "stopped");
}

TEST_F(TrainerServiceBody, WaitsForAMissingServerSaysWhyAndGoesOnWhenItComes) {
  auto& run = start(options({{"resolve_timeout_ms", 300}}));
  submit("patient", 6);
  auto waiting = recorded.wait_for(
      [](const TrainerStatus& s) { return s.state == "waiting" && !s.last_error.empty(); }, 60s);
  ASSERT_TRUE(waiting) << trainer_status_json(recorded.last()).dump();
  EXPECT_NE(waiting->last_error.find("not ready within 300 ms"), std::string::npos)
      << waiting->last_error;

  testing::InProcessLlm llm;
  resolver.set(llm.endpoint());
  ASSERT_TRUE(recorded.wait_for([](const TrainerStatus& s) { return s.jobs_done == 1; }, 120s))
      << trainer_status_json(recorded.last()).dump();
  stop.request();
  EXPECT_EQ(run.get(), kExitOk);
}

TEST_F(TrainerServiceBody, AStopEndsAWaitForTheServerAtOnce) {
  auto& run = start(options({{"resolve_timeout_ms", 3600000}}));
  submit("never", 3);
  ASSERT_TRUE(
      recorded.wait_for([](const TrainerStatus& s) { return s.job.rfind("never", 0) == 0; }, 30s));
  const auto asked = std::chrono::steady_clock::now();
  stop.request();
  ASSERT_EQ(run.wait_for(10s), std::future_status::ready) << "the stop waited for the server";
  EXPECT_EQ(run.get(), kExitOk);
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 5s);
  // The job stays active, to resume on the next start.
  EXPECT_FALSE(std::filesystem::is_empty(dir / "jobs" / "active"));
}

// Issue 17, defect 3: a jobs folder a user owns (or may write) would let them run a `command` job
// as the trainer's account. The facts are made up here; the Win32 and POSIX readers are tested
// with real folders (folder_facts_test, posix_test).
TEST_F(TrainerServiceBody, UntrustedJobsFoldersRunNoJobAndTheStatusSaysWhichAndWhy) {
  testing::InProcessLlm llm;
  resolver.set(llm.endpoint());
  std::atomic<bool> taken_over{true};
  Pokes looks;  // one per folder read
  auto o = options();
  o.read_folder_facts = [&taken_over, &looks](const std::filesystem::path& folder) {
    looks.poke();
    FolderFacts f;
    f.folder = folder;
    f.owner = "BUILTIN\\Administrators (S-1-5-32-544)";
    f.owner_principal = Principal::administrators;
    if (taken_over && folder.filename() == "inbox") {
      f.owner = "PC\\alice (S-1-5-21-1-2-3-1001)";
      f.owner_principal = Principal::other;
    }
    return f;
  };
  submit("planted", 4);
  auto& run = start(o);
  auto blocked =
      recorded.wait_for([](const TrainerStatus& s) { return s.state == "blocked"; }, 30s);
  ASSERT_TRUE(blocked) << trainer_status_json(recorded.last()).dump();
  EXPECT_NE(blocked->last_error.find(path_utf8(dir / "jobs" / "inbox") +
                                     ": its owner is PC\\alice (S-1-5-21-1-2-3-1001)"),
            std::string::npos)
      << blocked->last_error;
  // Another look (the inbox changed) finds it still taken over: still no job.
  std::uint64_t seen = 0;
  {
    std::lock_guard lock(looks.mutex);
    seen = looks.count;
  }
  pokes.poke();
  {
    std::unique_lock lock(looks.mutex);
    ASSERT_TRUE(looks.changed.wait_for(lock, 30s, [&] { return looks.count >= seen + 5; }))
        << "the trainer did not look at its five folders again";
  }
  EXPECT_EQ(recorded.last().state, "blocked");
  EXPECT_TRUE(std::filesystem::exists(dir / "jobs" / "inbox" / "planted.json"));
  EXPECT_TRUE(std::filesystem::is_empty(dir / "jobs" / "active"));

  // Given back its owner (tandemctl configure-services), the next look runs the job.
  taken_over = false;
  pokes.poke();
  ASSERT_TRUE(recorded.wait_for([](const TrainerStatus& s) { return s.jobs_done == 1; }, 120s))
      << trainer_status_json(recorded.last()).dump();
  EXPECT_TRUE(recorded.last().last_error.empty()) << recorded.last().last_error;
  stop.request();
  EXPECT_EQ(run.get(), kExitOk);
}

TEST_F(TrainerServiceBody, InvalidConfigStopsWithItsExitCode) {
  auto o = options();
  write_file_atomically(dir / "trainer.json", "{\n  \"max_retries\": \"many\"\n}");
  testing::QuietStatus status;
  EXPECT_EQ(run_trainer_service(status, stop, o), kExitBadConfig);
}

}  // namespace
}  // namespace tandem::trainer
