// The `command` job's logic with a scripted launcher: what the program finds in its environment,
// restarts by policy with the count kept across a trainer restart, stops, and start failures.
#include "trainer/command/command_job.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>

#include "common/error.h"
#include "common/files.h"
#include "common/log.h"
#include "tests/support/temp_dir.h"

namespace tandem::trainer {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// Something the trainer cannot survive (a crash): not a tandem::Error, so it is never handled.
struct TrainerCrash {};

// One scripted run of the program.
struct Script {
  std::vector<std::pair<Stream, std::string>> lines;
  int exit_code = 0;
  std::string start_error;  // non-empty: run() throws Error with it
  bool wait_for_stop = false;
  bool crash = false;
  std::stop_source* stop_during = nullptr;  // requests this stop, then exits by itself
};

class FakeLauncher : public ProcessLauncher {
 public:
  std::deque<Script> scripts;
  std::vector<ProcessSpec> specs;  // what each run was asked to start
  std::promise<void> waiting;      // set when a wait_for_stop run is waiting

  ProcessExit run(const ProcessSpec& spec, const LineCallback& on_line,
                  std::stop_token stop) override {
    specs.push_back(spec);
    if (scripts.empty()) throw std::logic_error("the job ran the program more often than scripted");
    Script script = scripts.front();
    scripts.pop_front();
    if (!script.start_error.empty()) throw Error(script.start_error);
    for (const auto& [stream, line] : script.lines) on_line(stream, line);
    if (script.crash) throw TrainerCrash{};
    if (script.stop_during != nullptr) script.stop_during->request_stop();
    if (script.wait_for_stop) {
      std::mutex m;
      std::condition_variable_any cv;
      std::unique_lock lock(m);
      waiting.set_value();
      cv.wait_for(lock, stop, 20s, [] { return false; });
      if (!stop.stop_requested()) throw std::logic_error("no stop request within 20 s");
      return {.exit_code = 1, .stopped = true};
    }
    return {.exit_code = script.exit_code, .stopped = false};
  }
};

Script exits(int code) {
  Script s;
  s.exit_code = code;
  return s;
}

class CommandJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    job_.command = {"python", "train.py", "--epochs", "3"};
    job_.working_dir = dir_ / "job";
    fs::create_directories(job_.working_dir);
  }
  void TearDown() override { log::shutdown(); }

  std::unique_ptr<Checkpoint> open_checkpoint() {
    return std::make_unique<Checkpoint>(spool::real_file_system(), dir_ / "work", "job-1");
  }

  // Each resolve gives the next port, as if the server restarted in between.
  EndpointSource endpoint() {
    return [this](std::stop_token) {
      ++resolves_;
      return LlmAccess{.url = "http://127.0.0.1:" + std::to_string(8030 + resolves_),
                       .api_key = api_key_};
    };
  }

  CommandOutcome run(Checkpoint& checkpoint, std::stop_token stop = {}) {
    return run_command_job("job-1", job_, endpoint(), launcher_, checkpoint, stop);
  }
  CommandOutcome run() {
    auto checkpoint = open_checkpoint();
    return run(*checkpoint);
  }

  testing::TempDir dir_;
  spool::CommandSpec job_;
  FakeLauncher launcher_;
  std::string api_key_;
  int resolves_ = 0;
};

// --- environment ------------------------------------------------------------------------------

TEST_F(CommandJobTest, TheProgramGetsTheEndpointAndTheJobsVariables) {
  job_.env = {{"HF_HOME", "D:\\hf"}, {"EPOCHS", "3"}};
  launcher_.scripts = {exits(0)};
  ASSERT_TRUE(run().ok);
  ASSERT_EQ(launcher_.specs.size(), 1u);
  const ProcessSpec& spec = launcher_.specs[0];
  EXPECT_EQ(spec.argv, job_.command);
  EXPECT_EQ(spec.working_dir, path_utf8(job_.working_dir));
  EXPECT_EQ(spec.env,
            (std::map<std::string, std::string>{{"EPOCHS", "3"},
                                                {"HF_HOME", "D:\\hf"},
                                                {"OPENAI_BASE_URL", "http://127.0.0.1:8031/v1"},
                                                {"TANDEM_LLM_URL", "http://127.0.0.1:8031"}}));
}

TEST_F(CommandJobTest, TheApiKeyIsSetOnlyWhenTheServerHasOne) {
  api_key_ = "sk-local-123";
  launcher_.scripts = {exits(0)};
  ASSERT_TRUE(run().ok);
  EXPECT_EQ(launcher_.specs[0].env.at("OPENAI_API_KEY"), "sk-local-123");

  api_key_.clear();
  launcher_.scripts = {exits(0)};
  auto checkpoint = std::make_unique<Checkpoint>(spool::real_file_system(), dir_ / "w2", "j");
  ASSERT_TRUE(run(*checkpoint).ok);
  EXPECT_EQ(launcher_.specs[1].env.count("OPENAI_API_KEY"), 0u);  // no placeholder
}

TEST(JobEnvironment, TheTrainerOwnsTheUrlsWhateverTheJobSays) {
  const JobEnvironment env =
      job_environment({{"TANDEM_LLM_URL", "http://127.0.0.1:9999"},
                       {"openai_base_url", "http://stale:1/v1"},
                       {"OPENAI_API_KEY", "from-job"},
                       {"OTHER", "kept"}},
                      LlmAccess{.url = "http://127.0.0.1:8031/", .api_key = "server-key"});
  EXPECT_EQ(env.variables,
            (std::map<std::string, std::string>{{"OPENAI_API_KEY", "server-key"},
                                                {"OPENAI_BASE_URL", "http://127.0.0.1:8031/v1"},
                                                {"OTHER", "kept"},
                                                {"TANDEM_LLM_URL", "http://127.0.0.1:8031"}}));
  EXPECT_EQ(env.ignored,
            (std::vector<std::string>{"OPENAI_API_KEY", "TANDEM_LLM_URL", "openai_base_url"}));
}

TEST(JobEnvironment, TheJobMaySetTheKeyWhenTheServerHasNone) {
  const JobEnvironment env = job_environment(
      {{"OPENAI_API_KEY", "unused"}}, LlmAccess{.url = "http://127.0.0.1:8031", .api_key = ""});
  EXPECT_EQ(env.variables.at("OPENAI_API_KEY"), "unused");
  EXPECT_TRUE(env.ignored.empty());
}

TEST_F(CommandJobTest, OutputLinesAndIgnoredVariablesReachTheLog) {
  log::Options options;
  options.directory = dir_.path();
  options.file_stem = "trainer";
  log::init(options);
  job_.env = {{"TANDEM_LLM_URL", "http://127.0.0.1:1"}};
  Script script;
  script.lines = {{Stream::out, "epoch 1 loss 0.69"}, {Stream::err, "warning: slow disk"}};
  launcher_.scripts = {script};
  ASSERT_TRUE(run().ok);
  const std::string text = read_file(dir_ / "trainer.log");
  EXPECT_NE(text.find("job-1 stdout: epoch 1 loss 0.69"), std::string::npos) << text;
  EXPECT_NE(text.find("job-1 stderr: warning: slow disk"), std::string::npos) << text;
  EXPECT_NE(text.find("sets TANDEM_LLM_URL, which the trainer sets itself"), std::string::npos)
      << text;
}

TEST_F(CommandJobTest, TheApiKeyNeverReachesTheLog) {
  log::Options options;
  options.directory = dir_.path();
  options.file_stem = "trainer";
  log::init(options);
  api_key_ = "sk-secret-value";
  launcher_.scripts = {exits(0)};
  ASSERT_TRUE(run().ok);
  const std::string text = read_file(dir_ / "trainer.log");
  EXPECT_NE(text.find("attempt 1: starting python train.py"), std::string::npos) << text;
  EXPECT_EQ(text.find("sk-secret-value"), std::string::npos) << text;
}

// --- exit codes and restarts ------------------------------------------------------------------

TEST_F(CommandJobTest, ASuccessfulRunIsRecorded) {
  launcher_.scripts = {exits(0)};
  auto checkpoint = open_checkpoint();
  const CommandOutcome outcome = run(*checkpoint);
  EXPECT_TRUE(outcome.ok);
  EXPECT_EQ(checkpoint->counter("attempts"), 1);
  ASSERT_NE(checkpoint->result("attempt-1"), nullptr);
  EXPECT_EQ(*checkpoint->result("attempt-1"), (nlohmann::json{{"exit_code", 0}}));
}

TEST_F(CommandJobTest, WithoutARestartPolicyAFailureEndsTheJob) {
  launcher_.scripts = {exits(3)};
  auto checkpoint = open_checkpoint();
  const CommandOutcome outcome = run(*checkpoint);
  EXPECT_TRUE(!outcome.ok);
  EXPECT_EQ(outcome.reason,
            "python exited with code 3 on attempt 1 (1 failed attempt; restart policy \"never\")");
  EXPECT_EQ(launcher_.specs.size(), 1u);
  EXPECT_EQ((*checkpoint->result("attempt-1"))["exit_code"], 3);
}

TEST_F(CommandJobTest, OnFailureRestartsUpToTheLimitResolvingEachTime) {
  job_.restart = spool::RestartPolicy::on_failure;
  job_.max_restarts = 2;
  launcher_.scripts = {exits(1), exits(2), exits(-1073741819)};
  auto checkpoint = open_checkpoint();
  const CommandOutcome outcome = run(*checkpoint);
  EXPECT_TRUE(!outcome.ok);
  EXPECT_EQ(outcome.reason,
            "python exited with code -1073741819 (0xC0000005) on attempt 3 (3 failed attempts; "
            "restart policy \"on-failure\" allows 2 restarts)");
  ASSERT_EQ(launcher_.specs.size(), 3u);
  // A new resolve before each start: the third run sees the third port.
  EXPECT_EQ(launcher_.specs[0].env.at("TANDEM_LLM_URL"), "http://127.0.0.1:8031");
  EXPECT_EQ(launcher_.specs[2].env.at("TANDEM_LLM_URL"), "http://127.0.0.1:8033");
  EXPECT_EQ(checkpoint->counter("attempts"), 3);
  EXPECT_EQ((*checkpoint->result("attempt-2"))["exit_code"], 2);
}

TEST_F(CommandJobTest, OnFailureStopsRestartingOnceTheProgramSucceeds) {
  job_.restart = spool::RestartPolicy::on_failure;
  job_.max_restarts = 5;
  launcher_.scripts = {exits(1), exits(0)};
  EXPECT_TRUE(run().ok);
  EXPECT_EQ(launcher_.specs.size(), 2u);
}

TEST_F(CommandJobTest, ATrainerRestartMidJobResumesTheCount) {
  job_.restart = spool::RestartPolicy::on_failure;
  job_.max_restarts = 2;
  Script crash;
  crash.crash = true;
  launcher_.scripts = {exits(1), exits(1), crash};
  {
    auto checkpoint = open_checkpoint();
    EXPECT_THROW(run(*checkpoint), TrainerCrash);
  }
  // The trainer comes back: attempt 3 has no record (lost with the trainer, not a failure of
  // the program), so it runs once more as attempt 4, and that failure is the third.
  launcher_.scripts = {exits(1)};
  auto checkpoint = open_checkpoint();
  const CommandOutcome outcome = run(*checkpoint);
  EXPECT_TRUE(!outcome.ok);
  EXPECT_NE(outcome.reason.find("on attempt 4 (3 failed attempts;"), std::string::npos)
      << outcome.reason;
  EXPECT_EQ(launcher_.specs.size(), 4u);
  EXPECT_EQ(checkpoint->counter("attempts"), 4);
  EXPECT_EQ(checkpoint->result("attempt-3"), nullptr);
}

TEST_F(CommandJobTest, AFinishedProgramIsNotRunAgainOnResume) {
  {
    auto checkpoint = open_checkpoint();
    checkpoint->set_counter("attempts", 1);
    checkpoint->record("attempt-1", {{"exit_code", 0}});
  }
  EXPECT_TRUE(run().ok);  // the trainer died before the spool moved the job to done/
  EXPECT_TRUE(launcher_.specs.empty());
  EXPECT_EQ(resolves_, 0);
}

// --- stopping ---------------------------------------------------------------------------------

TEST_F(CommandJobTest, AStopLeavesTheJobActiveAndTheNextStartRunsItAgain) {
  job_.restart = spool::RestartPolicy::on_failure;
  job_.max_restarts = 0;  // a stopped attempt is not a failure: it must not use up restarts
  Script blocks;
  blocks.wait_for_stop = true;
  launcher_.scripts = {blocks};
  std::stop_source stop;
  std::future<void> waiting = launcher_.waiting.get_future();
  {
    auto checkpoint = open_checkpoint();
    auto outcome =
        std::async(std::launch::async, [&] { return run(*checkpoint, stop.get_token()); });
    ASSERT_EQ(waiting.wait_for(20s), std::future_status::ready) << "the program never started";
    stop.request_stop();
    ASSERT_EQ(outcome.wait_for(20s), std::future_status::ready) << "the job ignored the stop";
    const CommandOutcome result = outcome.get();
    EXPECT_TRUE(result.stopped);
    EXPECT_FALSE(result.failed());
    EXPECT_EQ(*checkpoint->result("attempt-1"),
              (nlohmann::json{{"exit_code", 1}, {"stopped", true}}));
  }
  launcher_.scripts = {exits(0)};
  auto checkpoint = open_checkpoint();
  EXPECT_TRUE(run(*checkpoint).ok);
  EXPECT_EQ(checkpoint->counter("attempts"), 2);
}

TEST_F(CommandJobTest, AStopBeforeTheStartStartsNothing) {
  std::stop_source stop;
  stop.request_stop();
  auto checkpoint = open_checkpoint();
  EXPECT_TRUE(run(*checkpoint, stop.get_token()).stopped);
  EXPECT_TRUE(launcher_.specs.empty());
  EXPECT_EQ(resolves_, 0);
  EXPECT_EQ(checkpoint->counter("attempts"), 0);
}

TEST_F(CommandJobTest, AStopWhileResolvingStartsNothing) {
  std::stop_source stop;
  const EndpointSource resolved_as_stop_came = [&](std::stop_token) {
    stop.request_stop();
    return LlmAccess{.url = "http://127.0.0.1:8031", .api_key = ""};
  };
  auto checkpoint = open_checkpoint();
  EXPECT_TRUE(run_command_job("job-1", job_, resolved_as_stop_came, launcher_, *checkpoint,
                              stop.get_token())
                  .stopped);
  EXPECT_TRUE(launcher_.specs.empty());
  EXPECT_EQ(checkpoint->counter("attempts"), 0);
}

TEST_F(CommandJobTest, AProgramThatExitsByItselfAsTheStopComesCounts) {
  std::stop_source stop;
  Script ends = exits(0);
  ends.stop_during = &stop;
  launcher_.scripts = {ends};
  auto checkpoint = open_checkpoint();
  EXPECT_TRUE(run(*checkpoint, stop.get_token()).ok);  // done, not left to run again

  job_.restart = spool::RestartPolicy::on_failure;  // a failure would restart: the stop wins
  Script fails = exits(4);
  std::stop_source second;
  fails.stop_during = &second;
  launcher_.scripts = {fails};
  auto other = std::make_unique<Checkpoint>(spool::real_file_system(), dir_ / "w3", "j");
  EXPECT_TRUE(run(*other, second.get_token()).stopped);
  EXPECT_EQ(launcher_.specs.size(), 2u);
  EXPECT_EQ(*other->result("attempt-1"), (nlohmann::json{{"exit_code", 4}}));
}

// --- failures before the program runs ---------------------------------------------------------

TEST_F(CommandJobTest, AProgramThatCannotStartFailsTheJobWithoutRestarts) {
  job_.restart = spool::RestartPolicy::on_failure;
  Script missing;
  missing.start_error =
      "CreateProcessW(python train.py) failed: The system cannot find the file "
      "specified. (error 2)";
  launcher_.scripts = {missing};
  {
    auto checkpoint = open_checkpoint();
    const CommandOutcome outcome = run(*checkpoint);
    EXPECT_TRUE(!outcome.ok);
    EXPECT_EQ(outcome.reason, "could not run python: " + missing.start_error);
    EXPECT_EQ(launcher_.specs.size(), 1u);
  }
  // Resumed (the spool had not moved it yet): the same verdict, nothing started.
  const CommandOutcome again = run();
  EXPECT_TRUE(!again.ok);
  EXPECT_EQ(launcher_.specs.size(), 1u);
}

TEST_F(CommandJobTest, AStopThrownByTheEndpointSourceReachesTheCaller) {
  const EndpointSource stopping = [](std::stop_token) -> LlmAccess { throw StopRequested(); };
  auto checkpoint = open_checkpoint();
  EXPECT_THROW(run_command_job("job-1", job_, stopping, launcher_, *checkpoint, {}), StopRequested);
  EXPECT_EQ(checkpoint->counter("attempts"), 0);
}

TEST_F(CommandJobTest, AServerThatCannotBeResolvedLeavesTheJobToTheCaller) {
  struct Unavailable : Error {
    using Error::Error;
  };
  const EndpointSource down = [](std::stop_token) -> LlmAccess {
    throw Unavailable("TandemLlm not ready within 120000 ms: State is \"starting\"");
  };
  auto checkpoint = open_checkpoint();
  EXPECT_THROW(run_command_job("job-1", job_, down, launcher_, *checkpoint, {}), Unavailable);
  EXPECT_TRUE(launcher_.specs.empty());
  EXPECT_EQ(checkpoint->counter("attempts"), 0);  // no attempt used up
}

}  // namespace
}  // namespace tandem::trainer
