// TandemTrainer's service body when the disk refuses a write (full, read-only): the job is not
// failed for it. The trainer says which file and why, keeps the job active with its checkpoint
// intact, and finishes it once the disk takes writes again. The refusal here is a folder standing
// where the job writes a file, which stops root too (a read-only attribute or mode does not);
// fault_e2e_test fills a real disk under Wine.
#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <future>
#include <mutex>

#include "common/files.h"
#include "tests/support/in_process_llm.h"
#include "tests/support/temp_dir.h"
#include "trainer/checkpoint/checkpoint.h"
#include "trainer/trainer_service.h"

namespace tandem::trainer {
namespace {

using namespace std::chrono_literals;

class Statuses final : public StatusPublication {
 public:
  void write(const TrainerStatus& status) override {
    {
      std::lock_guard lock(mutex_);
      last_ = status;
    }
    changed_.notify_all();
  }
  std::optional<TrainerStatus> wait_for(const std::function<bool(const TrainerStatus&)>& done,
                                        std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, timeout, [&] { return done(last_); })) return std::nullopt;
    return last_;
  }
  TrainerStatus last() {
    std::lock_guard lock(mutex_);
    return last_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  TrainerStatus last_;
};

// Forwards to a publication the test keeps (the body owns the one it makes).
class Forward final : public StatusPublication {
 public:
  explicit Forward(Statuses& to) : to_(to) {}
  void write(const TrainerStatus& status) override { to_.write(status); }

 private:
  Statuses& to_;
};

class ForwardResolver final : public discovery::Resolver {
 public:
  explicit ForwardResolver(testing::ScriptedResolver& to) : to_(to) {}
  std::optional<discovery::Endpoint> resolve(std::string& why) override { return to_.resolve(why); }
  discovery::Endpoint wait_ready(std::chrono::milliseconds t, std::stop_token s) override {
    return to_.wait_ready(t, s);
  }

 private:
  testing::ScriptedResolver& to_;
};

// No inbox notifications: the one job is in the inbox before the body starts.
class QuietWatch final : public FolderWatch {
 public:
  bool wait_for_change(std::chrono::milliseconds timeout, std::stop_token stop) override {
    std::unique_lock lock(mutex_);
    if (timeout == kWaitForChangeOnly) {
      changed_.wait(lock, stop, [] { return false; });
    } else {
      changed_.wait_for(lock, stop, timeout, [] { return false; });
    }
    return false;
  }

 private:
  std::mutex mutex_;
  std::condition_variable_any changed_;
};

class NoLauncher final : public ProcessLauncher {
 public:
  ProcessExit run(const ProcessSpec&, const LineCallback&, std::stop_token) override {
    throw Error("no processes in this test");
  }
};

TEST(TrainerDisk, ARefusedWriteKeepsTheJobActiveSaysWhichFileAndFinishesLater) {
  constexpr int kItems = 20;
  testing::TempDir dir;
  std::string data;
  for (int i = 0; i < kItems; ++i) {
    data += nlohmann::json{{"id", "n" + std::to_string(i)}, {"text", "text " + std::to_string(i)}}
                .dump() +
            "\n";
  }
  write_file_atomically(dir / "data.jsonl", data);
  std::filesystem::create_directories(dir / "jobs" / "inbox");
  write_file_atomically(dir / "jobs" / "inbox" / "disk.json",
                        nlohmann::json{{"kind", "distill"},
                                       {"dataset", (dir / "data.jsonl").string()},
                                       {"labels", {"good", "bad"}},
                                       {"epochs", 2}}
                            .dump());
  write_file_atomically(
      dir / "trainer.json",
      nlohmann::json{{"jobs_dir", (dir / "jobs").string()}, {"resolve_timeout_ms", 120000}}.dump());

  Statuses statuses;
  testing::ScriptedResolver resolver;  // no server yet: the job is claimed and waits for one
  TrainerServiceOptions o;
  o.config_file = dir / "trainer.json";
  o.pipe_name = "test-trainer";
  o.make_publication = [&](std::function<TrainerStatus()>) {
    return std::make_unique<Forward>(statuses);
  };
  o.make_resolver = [&] { return std::make_unique<ForwardResolver>(resolver); };
  o.make_watch = [](const std::filesystem::path&) { return std::make_unique<QuietWatch>(); };
  o.make_launcher = [] { return std::make_unique<NoLauncher>(); };
  StopSignal stop;
  auto run = std::async(std::launch::async, [&] {
    testing::QuietStatus status;
    return run_trainer_service(status, stop, o);
  });
  struct StopAtEnd {
    StopSignal& stop;
    ~StopAtEnd() { stop.request(); }
  } stop_at_end{stop};

  auto claimed = statuses.wait_for([](const TrainerStatus& s) { return !s.job.empty(); }, 30s);
  ASSERT_TRUE(claimed) << trainer_status_json(statuses.last()).dump();
  const auto work = dir / "jobs" / "active" / (claimed->job + ".work");
  ASSERT_TRUE(std::filesystem::is_directory(work));
  // labels.jsonl is written (temp file, then rename) once every item is labelled.
  const auto obstacle = work / "labels.jsonl.tmp";
  std::filesystem::create_directories(obstacle);

  testing::InProcessLlm llm;
  resolver.set(llm.endpoint());
  auto refused = statuses.wait_for(
      [](const TrainerStatus& s) {
        return s.state == "waiting" && s.last_error.find("labels.jsonl") != std::string::npos;
      },
      120s);
  ASSERT_TRUE(refused) << trainer_status_json(statuses.last()).dump();
  EXPECT_NE(refused->last_error.find("labels.jsonl.tmp"), std::string::npos) << refused->last_error;
  EXPECT_EQ(refused->jobs_failed, 0) << refused->last_error;
  // The checkpoint is whole: every item recorded once.
  {
    Checkpoint checkpoint(spool::real_file_system(), work, claimed->job);
    EXPECT_EQ(checkpoint.done_count(), static_cast<std::size_t>(kItems));
  }

  std::filesystem::remove(obstacle);
  auto done = statuses.wait_for([](const TrainerStatus& s) { return s.jobs_done == 1; }, 60s);
  ASSERT_TRUE(done) << trainer_status_json(statuses.last()).dump();
  EXPECT_EQ(done->jobs_failed, 0);
  std::size_t labelled = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir / "jobs" / "done")) {
    if (entry.path().extension() != ".work") continue;
    const std::string labels = read_file(entry.path() / "labels.jsonl");
    labelled = static_cast<std::size_t>(std::count(labels.begin(), labels.end(), '\n'));
  }
  EXPECT_EQ(labelled, static_cast<std::size_t>(kItems));

  stop.request();
  ASSERT_EQ(run.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(run.get(), kExitOk);
}

}  // namespace
}  // namespace tandem::trainer
