// TandemTrainer and TandemLlm as real services under the (Wine) SCM: jobs dropped in the spool
// finish with every item labelled exactly once while the server is killed and comes back on
// another port, while the trainer itself is killed, paused, or started before the server.
// Every wait is on a registry change notification or an SCM state change, with a bound.
#include <windows.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/error.h"
#include "common/files.h"
#include "common/paths.h"
#include "common/win32/error.h"
#include "common/win32/pipe_client.h"
#include "common/win32/registry.h"
#include "common/win32/registry_publication.h"
#include "common/win32/scm.h"
#include "tests/support/loopback_socket.h"
#include "tests/support/raw_http_client.h"
#include "tests/support/service_e2e.h"
#include "tests/support/win_process.h"
#include "trainer/jobs/checkpoint.h"

namespace tandem {
namespace {

using namespace std::chrono_literals;
using testing::Family;
using win32::ServiceState;
using Clock = std::chrono::steady_clock;
using testing::read_trainer;
using testing::TrainerValues;
using testing::wait_llm_published;
using testing::wait_trainer;
using testing::windows_path;

constexpr const char* kLlm = "TandemLlm";
constexpr const char* kTrainer = "TandemTrainer";

std::vector<nlohmann::json> jsonl(const std::string& text) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(nlohmann::json::parse(line));
  }
  return lines;
}

class TrainerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = testing::find_free_ports(8);
    testing::set_up_test_pair(port_, TANDEM_LLM_EXE, TANDEM_TRAINER_EXE);
  }

  void TearDown() override { testing::tear_down_test_pair(HasFailure()); }

  static win32::Service service(const char* name) {
    static auto scm = win32::ScManager::open(SC_MANAGER_ALL_ACCESS);
    return win32::Service::open(scm, name);
  }

  static void start(const char* name) {
    service(name).start();
    service(name).wait_for_state(ServiceState::running, 60s);
  }

  // TerminateProcess on the service's process, as a crash would end it, then a start, as SCM
  // recovery would do. Wine 8's SCM keeps reporting the dead process as RUNNING (Windows' sees it
  // end) but starts the service again; so the new run is told apart by its PID.
  static void kill_and_restart(
      const char* name, const std::function<void()>& while_down = [] {}) {
    const auto before = service(name).query();
    ASSERT_EQ(before.state, ServiceState::running) << name;
    win32::Handle process(OpenProcess(PROCESS_TERMINATE | SYNCHRONIZE, FALSE, before.pid));
    ASSERT_TRUE(process) << "OpenProcess(" << before.pid << ")";
    ASSERT_TRUE(TerminateProcess(process.get(), 9));
    ASSERT_EQ(WaitForSingleObject(process.get(), 30000), WAIT_OBJECT_0);
    while_down();
    service(name).start();
    service(name).wait_until(
        [&](const win32::ServiceStatusInfo& s) {
          return s.state == ServiceState::running && s.pid != before.pid;
        },
        60s, "to run again after the kill");
  }

  // A JSONL dataset of `count` items with ids "t-<i>", in the data folder.
  std::filesystem::path dataset(const std::string& name, int count) {
    std::string text;
    const char* words[] = {"bright", "storm", "quiet", "river", "green", "stone", "cloud", "fire"};
    for (int i = 0; i < count; ++i) {
      text += nlohmann::json{{"id", "t-" + std::to_string(i)},
                             {"text", std::string(words[i % 8]) + " " + words[(i * 3 + 1) % 8] +
                                          " number " + std::to_string(i)}}
                  .dump() +
              "\n";
    }
    auto file = paths::data_dir() / "datasets" / name;
    std::filesystem::create_directories(file.parent_path());
    write_file_atomically(file, text);
    return file;
  }

  // Drops a job in the inbox the way a person would: written elsewhere, then moved in.
  void submit(const std::string& file_name, const std::string& content) {
    auto staging = paths::data_dir() / "staging";
    std::filesystem::create_directories(staging);
    std::filesystem::create_directories(paths::jobs_dir() / "inbox");
    write_file_atomically(staging / file_name, content);
    std::filesystem::rename(staging / file_name, paths::jobs_dir() / "inbox" / file_name);
  }

  void submit_distill(const std::string& name, const std::filesystem::path& data) {
    submit(name + ".json", nlohmann::json{{"kind", "distill"},
                                          {"dataset", windows_path(data.string())},
                                          {"labels", {"yes", "no"}},
                                          {"epochs", 3}}
                               .dump());
  }

  // The finished job's work folder (done/<id>.work) for a job file named `name`.json.
  static std::filesystem::path done_work(const std::string& name) {
    for (const auto& entry : std::filesystem::directory_iterator(paths::jobs_dir() / "done")) {
      const auto file = entry.path().filename().string();
      if (file.rfind(name + "-", 0) == 0 && entry.path().extension() == ".work")
        return entry.path();
    }
    throw Error("no done/" + name + "-*.work");
  }

  // Every dataset id labelled exactly once: in labels.jsonl and in the checkpoint.
  static void expect_each_labelled_once(const std::string& name, int count) {
    const auto work = done_work(name);
    const auto labels = jsonl(read_file(work / "labels.jsonl"));
    std::set<std::string> ids;
    for (const auto& line : labels) ids.insert(line["id"].get<std::string>());
    EXPECT_EQ(labels.size(), static_cast<std::size_t>(count));
    EXPECT_EQ(ids.size(), static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) EXPECT_TRUE(ids.count("t-" + std::to_string(i))) << i;

    jobs::Checkpoint checkpoint(jobs::real_file_system(), work, work.stem().string());
    EXPECT_EQ(checkpoint.done_count(), static_cast<std::size_t>(count));
    const auto recorded = checkpoint.done_ids();
    EXPECT_EQ(std::set<std::string>(recorded.begin(), recorded.end()).size(), recorded.size());
    EXPECT_TRUE(std::filesystem::exists(work / "student.json"));
    EXPECT_TRUE(std::filesystem::exists(work / "metrics.json"));
  }

  // The port of the TandemLlm the SCM runs now, once it has published it.
  static std::uint16_t published_port() {
    return wait_llm_published(service(kLlm).query().pid, 60s);
  }

  std::uint16_t port_ = 0;
};

TEST_F(TrainerServiceTest, DependencyIsRegisteredAndStartingTheTrainerBringsUpTheServer) {
  auto config = service(kTrainer).query_config();
  EXPECT_EQ(config.dependencies, std::vector<std::string>{kLlm});

  // Windows' SCM starts dependencies itself; Wine 8's does not, so this is tandemctl's way.
  auto trainer = service(kTrainer);
  static auto scm = win32::ScManager::open(SC_MANAGER_ALL_ACCESS);
  trainer.start_with_dependencies(scm, 60s);
  trainer.wait_for_state(ServiceState::running, 60s);
  EXPECT_EQ(service(kLlm).query().state, ServiceState::running);

  auto values = wait_trainer([](const TrainerValues& v) { return v.state == "idle"; }, 30s,
                             "the trainer to be idle");
  EXPECT_EQ(values.pid, trainer.query().pid);
  auto call = win32::call_pipe("tandem-trainer", R"({"v":1,"op":"status"})", 5s);
  EXPECT_EQ(call.server_pid, trainer.query().pid);
  auto status = nlohmann::json::parse(call.response);
  EXPECT_EQ(status["ok"], true) << call.response;
  EXPECT_EQ(status["state"], "idle");

  submit_distill("small", dataset("small.jsonl", 20));
  auto done = wait_trainer([](const TrainerValues& v) { return v.jobs_done == 1; }, 120s,
                           "the job to finish");
  EXPECT_EQ(done.server_url, "http://127.0.0.1:" + std::to_string(port_));
  expect_each_labelled_once("small", 20);

  // The student is usable from the command line.
  auto predict = testing::run_process("\"" + windows_path(TANDEM_TRAINER_EXE) + "\" predict \"" +
                                      windows_path((done_work("small") / "student.json").string()) +
                                      "\" \"bright storm number 3\"");
  EXPECT_EQ(predict.exit_code, 0u) << predict.errors;
  EXPECT_TRUE(predict.output == "yes\r\n" || predict.output == "no\r\n") << predict.output;

  service(kTrainer).stop();
  auto stopped = service(kTrainer).wait_for_state(ServiceState::stopped, 30s);
  EXPECT_EQ(stopped.win32_exit_code, 0u);
  EXPECT_EQ(read_trainer()->state, "stopped");
}

TEST_F(TrainerServiceTest, AJobSurvivesTheServerKilledTwiceAndBackOnAnotherPort) {
  constexpr int kItems = 300;
  start(kLlm);
  start(kTrainer);
  submit_distill("survivor", dataset("survivor.jsonl", kItems));

  std::vector<testing::Socket> held;  // the old ports, so each restart must move on
  std::set<std::uint16_t> ports = {published_port()};
  for (std::uint32_t at : {kItems / 4, kItems / 2}) {
    wait_trainer([at](const TrainerValues& v) { return v.items_done >= at; }, 120s,
                 std::to_string(at) + " items labelled");
    const std::uint16_t old_port = published_port();
    kill_and_restart(kLlm, [&] {
      held.push_back(testing::hold_port(Family::v4, old_port));
      held.push_back(testing::hold_port(Family::v6, old_port));
    });
    ports.insert(published_port());
  }
  EXPECT_EQ(ports.size(), 3u) << "the server came back on the same port";

  auto done = wait_trainer([](const TrainerValues& v) { return v.jobs_done == 1; }, 180s,
                           "the job to finish");
  EXPECT_EQ(done.jobs_failed, 0u);
  EXPECT_EQ(done.server_url, "http://127.0.0.1:" + std::to_string(published_port()));
  expect_each_labelled_once("survivor", kItems);
}

TEST_F(TrainerServiceTest, AKilledTrainerResumesFromItsCheckpointWithoutRepeats) {
  constexpr int kItems = 200;
  start(kLlm);
  start(kTrainer);
  submit_distill("resumed", dataset("resumed.jsonl", kItems));
  wait_trainer([](const TrainerValues& v) { return v.items_done >= kItems / 3; }, 120s,
               "a third of the items labelled");
  kill_and_restart(kTrainer);
  wait_trainer([](const TrainerValues& v) { return v.jobs_done == 1; }, 180s, "the job to finish");
  expect_each_labelled_once("resumed", kItems);

  // Nothing asked twice but the one item in flight at the kill: two labels, one request each.
  testing::RawHttpConnection http("127.0.0.1", published_port());
  auto metrics = http.request("GET", "/metrics").body;
  const std::string series = "tandem_requests_total{route=\"/v1/completions\",status=\"200\"} ";
  auto at = metrics.find(series);
  ASSERT_NE(at, std::string::npos) << metrics;
  const long answered = std::stol(metrics.substr(at + series.size()));
  EXPECT_GE(answered, 2 * kItems);
  EXPECT_LE(answered, 2 * kItems + 2);
}

TEST_F(TrainerServiceTest, BadJobsFailWithReasonsAndTheGoodOneStillRuns) {
  start(kLlm);
  start(kTrainer);
  auto data = dataset("good.jsonl", 10);
  auto bad_lines = paths::data_dir() / "datasets" / "bad-lines.jsonl";
  write_file_atomically(
      bad_lines, "{\"text\":\"fine\"}\n{\"text\":7}\n{\"text\":\"x\",\"label\":\"maybe\"}\n");
  submit("broken.json", "{\"kind\": \"distill\", \"labels\": [\"yes\"\n");
  submit("typo.json", nlohmann::json{{"kind", "distill"},
                                     {"dataset", windows_path(data.string())},
                                     {"labels", {"yes", "no"}},
                                     {"epoch", 3}}
                          .dump());
  submit("lines.json", nlohmann::json{{"kind", "distill"},
                                      {"dataset", windows_path(bad_lines.string())},
                                      {"labels", {"yes", "no"}}}
                           .dump());
  submit_distill("good", data);

  auto values = wait_trainer(
      [](const TrainerValues& v) { return v.jobs_done + v.jobs_failed == 4 && v.state == "idle"; },
      120s, "all four jobs to end");
  EXPECT_EQ(values.jobs_done, 1u);
  EXPECT_EQ(values.jobs_failed, 3u);
  expect_each_labelled_once("good", 10);

  std::map<std::string, std::string> reasons;
  for (const auto& entry : std::filesystem::directory_iterator(paths::jobs_dir() / "failed")) {
    const auto file = entry.path().filename().string();
    if (file.size() > 11 && file.ends_with(".reason.txt")) {
      reasons[file.substr(0, file.find_first_of("-."))] = read_file(entry.path());
    }
  }
  ASSERT_EQ(reasons.size(), 3u);
  EXPECT_NE(reasons["broken"].find("broken.json:"), std::string::npos) << reasons["broken"];
  EXPECT_NE(reasons["typo"].find("epoch"), std::string::npos) << reasons["typo"];
  EXPECT_NE(reasons["lines"].find("bad-lines.jsonl:2"), std::string::npos) << reasons["lines"];
  EXPECT_NE(reasons["lines"].find("bad-lines.jsonl:3"), std::string::npos) << reasons["lines"];
  EXPECT_NE(reasons["lines"].find("maybe"), std::string::npos) << reasons["lines"];
}

TEST_F(TrainerServiceTest, WithoutTheServerTheTrainerSaysWhyAndGoesOnWhenItComes) {
  testing::write_trainer_test_config({{"resolve_timeout_ms", 1500}});
  start(kTrainer);  // Wine's SCM leaves the dependency stopped: a server that is not there
  submit_distill("patient", dataset("patient.jsonl", 10));
  auto waiting = wait_trainer(
      [](const TrainerValues& v) { return v.state == "waiting" && !v.last_error.empty(); }, 60s,
      "the trainer to report the missing server");
  EXPECT_NE(waiting.last_error.find("not ready within 1500 ms"), std::string::npos)
      << waiting.last_error;
  EXPECT_EQ(waiting.items_done, 0u);

  start(kLlm);
  auto done = wait_trainer([](const TrainerValues& v) { return v.jobs_done == 1; }, 120s,
                           "the job to finish once the server is up");
  EXPECT_EQ(done.jobs_failed, 0u);
  expect_each_labelled_once("patient", 10);
}

TEST_F(TrainerServiceTest, PauseHoldsBetweenItemsAndContinueFinishesTheJob) {
  constexpr int kItems = 300;
  start(kLlm);
  start(kTrainer);
  submit_distill("paused", dataset("paused.jsonl", kItems));
  wait_trainer([](const TrainerValues& v) { return v.items_done >= 20; }, 120s, "20 items");

  service(kTrainer).pause();
  service(kTrainer).wait_for_state(ServiceState::paused, 30s);
  auto held = wait_trainer([](const TrainerValues& v) { return v.state == "paused"; }, 30s,
                           "the trainer to hold");
  EXPECT_LT(held.items_done, static_cast<std::uint32_t>(kItems));
  auto status = nlohmann::json::parse(
      win32::call_pipe("tandem-trainer", R"({"v":1,"op":"status"})", 5s).response);
  EXPECT_EQ(status["state"], "paused");
  EXPECT_EQ(status["items_done"], held.items_done) << "an item was labelled while paused";

  service(kTrainer).resume();
  service(kTrainer).wait_for_state(ServiceState::running, 30s);
  wait_trainer([](const TrainerValues& v) { return v.jobs_done == 1; }, 180s, "the job to finish");
  expect_each_labelled_once("paused", kItems);
}

TEST_F(TrainerServiceTest, ACommandJobGetsTheLiveEndpointAndItsOutputIsLogged) {
  start(kLlm);
  start(kTrainer);
  submit("script.json", nlohmann::json{{"kind", "command"},
                                       {"command",
                                        {"cmd.exe", "/c",
                                         "echo url=%TANDEM_LLM_URL% "
                                         "base=%OPENAI_BASE_URL%"}}}
                            .dump());
  auto values = wait_trainer([](const TrainerValues& v) { return v.jobs_done == 1; }, 60s,
                             "the command job to finish");
  EXPECT_EQ(values.jobs_failed, 0u);
  const std::string url = "http://127.0.0.1:" + std::to_string(port_);
  auto log = read_file(paths::logs_dir() / "tandem-trainer.log");
  EXPECT_NE(log.find("url=" + url + " base=" + url + "/v1"), std::string::npos) << log;
}

}  // namespace
}  // namespace tandem
