// tandem-llm and tandem-trainer as the Linux services, started the way systemd starts them (own
// environment, a fake NOTIFY_SOCKET that must hear READY=1, SIGTERM to stop, SIGKILL as a crash
// followed by a new start as Restart=on-failure does): the Windows suite's assertions, natively.
// Every wait is on a notify datagram, inotify in the runtime folder or a pidfd, with a bound.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "common/http_client.h"
#include "common/posix/dir_watch.h"
#include "common/posix/llm_resolver.h"
#include "common/posix/runtime_dir.h"
#include "common/posix/runtime_file.h"
#include "common/posix/unix_socket.h"
#include "service/exit_codes.h"
#include "tests/posix/child_process.h"
#include "tests/posix/notify_listener.h"
#include "tests/posix/spawned_process.h"
#include "tests/support/job_outcome.h"
#include "tests/support/loopback_socket.h"
#include "tests/support/temp_dir.h"

namespace tandem {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::Family;
using testing::NotifyListener;
using testing::SpawnedProcess;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

class LinuxPairTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = testing::find_free_ports(8);
    for (const char* d : {"run", "data", "logs", "etc"})
      std::filesystem::create_directories(dir_ / d);
    write_file_atomically(
        dir_ / "etc" / "llm-server.json",
        nlohmann::json{
            {"port", port_}, {"port_range", 8}, {"parallel", 2}, {"ctx_size", 512}, {"threads", 1}}
            .dump(2));
    write_trainer_config();
  }

  void TearDown() override {
    trainer_.reset();
    llm_.reset();
    if (!HasFailure()) return;
    for (const char* log : {"trainer.out", "llm.out"}) {
      const auto text = read_file_if_exists(dir_ / log).value_or("(none)");
      std::printf("--- %s (last 4000 bytes) ---\n%s\n", log,
                  text.substr(text.size() > 4000 ? text.size() - 4000 : 0).c_str());
    }
  }

  void write_trainer_config(const nlohmann::json& extra = nlohmann::json::object()) {
    nlohmann::json config = {{"resolve_timeout_ms", 60000}, {"connect_timeout_ms", 1000}};
    config.update(extra);
    write_file_atomically(dir_ / "etc" / "trainer.json", config.dump(2));
  }

  std::filesystem::path runtime() const { return dir_ / "run"; }
  std::filesystem::path jobs() const { return dir_ / "data" / "jobs"; }

  std::map<std::string, std::string> env(const NotifyListener& notify) const {
    return {{"TANDEM_RUNTIME_DIR", runtime().string()},
            {"TANDEM_DATA_DIR", (dir_ / "data").string()},
            {"LOGS_DIRECTORY", (dir_ / "logs").string()},
            {"NOTIFY_SOCKET", notify.address()}};
  }

  // ExecStart=, then systemd waits for READY=1 (TimeoutStartSec bounds it).
  void start_llm() {
    llm_notify_ = std::make_unique<NotifyListener>();
    llm_ = std::make_unique<SpawnedProcess>(
        TANDEM_LLM_EXE,
        std::vector<std::string>{"--config", (dir_ / "etc/llm-server.json").string()},
        env(*llm_notify_), dir_ / "llm.out");
    ASSERT_TRUE(llm_notify_->wait_for_line("READY=1", 120s))
        << "tandem-llm never sent READY=1; exit " << llm_->wait(0ms).value_or(-1);
  }
  void start_trainer() {
    trainer_notify_ = std::make_unique<NotifyListener>();
    trainer_ = std::make_unique<SpawnedProcess>(
        TANDEM_TRAINER_EXE,
        std::vector<std::string>{"--config", (dir_ / "etc/trainer.json").string(), "--llm-config",
                                 (dir_ / "etc/llm-server.json").string()},
        env(*trainer_notify_), dir_ / "trainer.out");
    ASSERT_TRUE(trainer_notify_->wait_for_line("READY=1", 60s))
        << "tandem-trainer never sent READY=1; exit " << trainer_->wait(0ms).value_or(-1);
  }

  // SIGKILL, as a crash ends it; reaped; then `while_down`; then a new start, as
  // Restart=on-failure does.
  void kill_and_restart_llm(const std::function<void()>& while_down) {
    llm_->signal(SIGKILL);
    ASSERT_EQ(llm_->wait(30s), 128 + SIGKILL);
    while_down();
    start_llm();
  }

  std::optional<nlohmann::json> trainer_status() const {
    const auto text = read_file_if_exists(runtime() / posix::kTrainerStatusFile);
    if (!text) return std::nullopt;
    return nlohmann::json::parse(*text);
  }

  // Until the trainer's status file satisfies `done`, woken by inotify in the runtime folder.
  nlohmann::json wait_trainer(const std::function<bool(const nlohmann::json&)>& done,
                              std::chrono::milliseconds timeout, const std::string& what) const {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      posix::DirWatch watch(runtime());  // armed before reading
      auto status = trainer_status();
      if (status && done(*status)) return *status;
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left <= 0ms) {
        throw Error("timed out after " + std::to_string(timeout.count()) + " ms waiting for " +
                    what + "; trainer: " + (status ? status->dump() : "(no status file)"));
      }
      watch.wait(left, {});
    }
  }

  // The port the running tandem-llm (this PID) has published as ready.
  std::uint16_t published_port() const {
    const auto deadline = Clock::now() + 60s;
    for (;;) {
      posix::DirWatch watch(runtime());
      auto published = posix::read_runtime_file(runtime() / posix::kLlmPublicationFile);
      if (published && published->state == discovery::State::ready &&
          published->pid == static_cast<std::uint32_t>(llm_->pid())) {
        return published->port;
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left <= 0ms)
        throw Error("tandem-llm pid " + std::to_string(llm_->pid()) + " never published ready");
      watch.wait(left, {});
    }
  }

  // tandemctl with the pair's runtime folder: its exit code and everything it printed.
  std::pair<int, std::string> ctl(const std::vector<std::string>& args) const {
    const auto out = dir_ / "ctl.out";
    std::filesystem::remove(out);
    SpawnedProcess p(TANDEM_CTL_EXE, args,
                     {{"TANDEM_RUNTIME_DIR", runtime().string()},
                      {"TANDEM_CONFIG_DIR", (dir_ / "etc").string()},
                      {"TANDEM_DATA_DIR", (dir_ / "data").string()},
                      {"LOGS_DIRECTORY", (dir_ / "logs").string()}},
                     out);
    const auto code = p.wait(60s);
    return {code.value_or(-1), read_file_if_exists(out).value_or("")};
  }

  std::filesystem::path dataset(const std::string& name, int count) const {
    std::string text;
    const char* words[] = {"bright", "storm", "quiet", "river", "green", "stone", "cloud", "fire"};
    for (int i = 0; i < count; ++i) {
      text += nlohmann::json{{"id", "t-" + std::to_string(i)},
                             {"text", std::string(words[i % 8]) + " " + words[(i * 3 + 1) % 8] +
                                          " number " + std::to_string(i)}}
                  .dump() +
              "\n";
    }
    auto file = dir_ / "data" / "datasets" / name;
    std::filesystem::create_directories(file.parent_path());
    write_file_atomically(file, text);
    return file;
  }

  // Written elsewhere, then moved into the inbox, as a person (or tandemctl submit) does.
  void submit_distill(const std::string& name, const std::filesystem::path& data) const {
    std::filesystem::create_directories(dir_ / "staging");
    std::filesystem::create_directories(jobs() / "inbox");
    write_file_atomically(dir_ / "staging" / (name + ".json"),
                          nlohmann::json{{"kind", "distill"},
                                         {"dataset", data.string()},
                                         {"labels", {"yes", "no"}},
                                         {"epochs", 3}}
                              .dump());
    std::filesystem::rename(dir_ / "staging" / (name + ".json"),
                            jobs() / "inbox" / (name + ".json"));
  }

  std::filesystem::path done_work(const std::string& name) const {
    return testing::done_work(jobs(), name);
  }

  void expect_each_labelled_once(const std::string& name, int count) const {
    testing::expect_each_labelled_once(jobs(), name, count);
  }

  testing::TempDir dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<NotifyListener> llm_notify_, trainer_notify_;
  std::unique_ptr<SpawnedProcess> llm_, trainer_;
};

TEST_F(LinuxPairTest, ReadyOverNotifyAJobRunsAndSigtermStopsBothCleanly) {
  submit_distill("small", dataset("small.jsonl", 20));  // waiting in the inbox from the start
  const auto t0 = Clock::now();
  start_llm();
  const double ready_ms = ms_since(t0);
  start_trainer();
  const double trainer_ready_ms = ms_since(t0);
  wait_trainer([](const nlohmann::json& s) { return s["items_done"].get<int>() >= 1; }, 120s,
               "the first item labelled");
  const double first_ms = ms_since(t0);
  std::printf(
      "P1 native: exec tandem-llm -> READY=1 %.0f ms -> trainer READY=1 %.0f ms -> "
      "trainer's first completed item %.0f ms\n",
      ready_ms, trainer_ready_ms, first_ms);

  const auto done = wait_trainer([](const nlohmann::json& s) { return s["jobs_done"] == 1; }, 180s,
                                 "the job to finish");
  EXPECT_EQ(done["server_url"], "http://127.0.0.1:" + std::to_string(port_));
  EXPECT_EQ(done["pid"], trainer_->pid());
  expect_each_labelled_once("small", 20);

  // tandemctl finds the same verified endpoint.
  const std::string url = "http://127.0.0.1:" + std::to_string(port_);
  EXPECT_EQ(ctl({"url"}), std::make_pair(0, url + "\n"));
  EXPECT_EQ(ctl({"wait", "--timeout", "5"}), std::make_pair(0, url + "\n"));
  const auto [status_code, status_text] = ctl({"status", "--json"});
  EXPECT_EQ(status_code, 0) << status_text;
  const auto status = nlohmann::json::parse(status_text);
  EXPECT_EQ(status["verified"], true);
  EXPECT_EQ(status["llm"]["pid"], llm_->pid());
  EXPECT_EQ(status["trainer"]["jobs_done"], 1);
  // Issue #18: the CPU variant chosen from the modules beside tandem-llm, and the CPU device.
  EXPECT_TRUE(std::filesystem::exists(
      std::filesystem::path(TANDEM_LLM_EXE).parent_path() /
      ("libggml-cpu-" + status["llm"]["cpu_variant"].get<std::string>() + ".so")))
      << status_text;
  ASSERT_FALSE(status["llm"]["devices"].empty()) << status_text;
  EXPECT_EQ(status["llm"]["devices"][0]["name"], "CPU");

  // P6: a client's resolve() against the running server process, every check included.
  {
    posix::LlmResolver resolver(runtime());
    std::vector<double> micros;
    std::string why;
    for (int i = 0; i < 1000; ++i) {
      const auto t = Clock::now();
      ASSERT_TRUE(resolver.resolve(why)) << why;
      micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
    }
    std::sort(micros.begin(), micros.end());
    std::printf("P6 native (tandem-llm process): resolve p50 %.0f us, p99 %.0f us over 1000\n",
                micros[500], micros[990]);
  }

  // The trainer's socket answers `status` from live state, served by the trainer itself.
  const auto call =
      posix::call_socket(runtime() / posix::kTrainerSocket, R"({"v":1,"op":"status"})", 5s);
  EXPECT_EQ(call.server.pid, trainer_->pid());
  EXPECT_EQ(nlohmann::json::parse(call.response)["state"], "idle") << call.response;

  // The student is usable from the command line.
  SpawnedProcess predict(
      TANDEM_TRAINER_EXE,
      {"predict", (done_work("small") / "student.json").string(), "bright storm number 3"}, {},
      dir_ / "predict.out");
  const std::optional<int> predicted = predict.wait(60s);
  const auto label = read_file(dir_ / "predict.out");
  // A label (exit 0), or "defer" (exit 10) when the student agrees with the random tiny teacher
  // less often than min_agreement asks on the held-out items.
  EXPECT_EQ(predicted, std::optional<int>(label == "defer\n" ? 10 : 0)) << label;
  EXPECT_TRUE(label == "yes\n" || label == "no\n" || label == "defer\n") << label;

  trainer_->signal(SIGTERM);
  EXPECT_EQ(trainer_->wait(30s), 0);
  EXPECT_TRUE(trainer_notify_->wait_for_line("STOPPING=1", 1s));
  EXPECT_EQ((*trainer_status())["state"], "stopped");
  EXPECT_FALSE(std::filesystem::exists(runtime() / posix::kTrainerSocket));

  llm_->signal(SIGTERM);
  EXPECT_EQ(llm_->wait(30s), 0);
  EXPECT_TRUE(llm_notify_->wait_for_line("STOPPING=1", 1s));
  EXPECT_FALSE(std::filesystem::exists(runtime() / posix::kLlmPublicationFile));
  EXPECT_FALSE(std::filesystem::exists(runtime() / posix::kLlmSocket));
}

TEST_F(LinuxPairTest, AJobSurvivesTheServerKilledTwiceAndTheStalePublicationIsNeverUsed) {
  constexpr int kItems = 300;
  start_llm();
  start_trainer();
  submit_distill("survivor", dataset("survivor.jsonl", kItems));

  std::vector<testing::Socket> held;  // the old ports, so each restart must move on
  std::set<std::uint16_t> ports = {published_port()};
  for (int at : {kItems / 4, kItems / 2}) {
    wait_trainer([at](const nlohmann::json& s) { return s["items_done"].get<int>() >= at; }, 180s,
                 std::to_string(at) + " items labelled");
    const std::uint16_t old_port = published_port();
    const pid_t old_pid = llm_->pid();
    kill_and_restart_llm([&] {
      // What the killed server left: a `ready` file naming a dead PID, and a socket file.
      auto stale = posix::read_runtime_file(runtime() / posix::kLlmPublicationFile);
      ASSERT_TRUE(stale);
      EXPECT_EQ(stale->state, discovery::State::ready);
      EXPECT_EQ(stale->pid, static_cast<std::uint32_t>(old_pid));
      std::string why;
      posix::LlmResolver resolver(runtime());
      EXPECT_FALSE(resolver.resolve(why)) << "a killed server's publication resolved";
      EXPECT_NE(why.find("which is not running"), std::string::npos) << why;
      const auto [code, text] = ctl({"url"});
      EXPECT_EQ(code, 1) << text;
      EXPECT_NE(text.find("which is not running"), std::string::npos) << text;
      // SO_REUSEADDR: the killed server's connections leave the port in TIME_WAIT on Linux.
      for (Family f : {Family::v4, Family::v6}) {
        auto holder = testing::try_hold_port(f, old_port, testing::Sharing::ask);
        ASSERT_TRUE(holder) << "cannot hold the old port " << old_port;
        held.push_back(std::move(*holder));
      }
    });
    ports.insert(published_port());
  }
  EXPECT_EQ(ports.size(), 3u) << "the server came back on the same port";

  const auto done = wait_trainer([](const nlohmann::json& s) { return s["jobs_done"] == 1; }, 300s,
                                 "the job to finish");
  EXPECT_EQ(done["jobs_failed"], 0);
  EXPECT_EQ(done["server_url"], "http://127.0.0.1:" + std::to_string(published_port()));
  expect_each_labelled_once("survivor", kItems);
}

TEST_F(LinuxPairTest, AKilledTrainerResumesFromItsCheckpointWithoutRepeats) {
  constexpr int kItems = 200;
  start_llm();
  start_trainer();
  submit_distill("resumed", dataset("resumed.jsonl", kItems));
  wait_trainer([](const nlohmann::json& s) { return s["items_done"].get<int>() >= kItems / 3; },
               180s, "a third of the items labelled");
  trainer_->signal(SIGKILL);
  ASSERT_EQ(trainer_->wait(30s), 128 + SIGKILL);
  start_trainer();
  wait_trainer([](const nlohmann::json& s) { return s["jobs_done"] == 1; }, 300s,
               "the job to finish");
  expect_each_labelled_once("resumed", kItems);

  // Nothing asked twice but the one item in flight at the kill: two labels, one request each.
  HttpClient http("http://127.0.0.1:" + std::to_string(published_port()));
  const auto metrics = http.get("/metrics").body;
  const std::string series = "tandem_requests_total{route=\"/v1/completions\",status=\"200\"} ";
  const auto at = metrics.find(series);
  ASSERT_NE(at, std::string::npos) << metrics;
  const long answered = std::stol(metrics.substr(at + series.size()));
  EXPECT_GE(answered, 2 * kItems);
  EXPECT_LE(answered, 2 * kItems + 2);
}

// Issue #21: a finetune job killed with the trainer at some step resumes from its last
// checkpoint record: every step of the curve once in metrics.json, the model written, the
// checkpoint's weights file gone.
TEST_F(LinuxPairTest, AKilledTrainerResumesAFinetuneFromItsLastCheckpoint) {
  const std::filesystem::path corpus = "/usr/share/common-licenses/GPL-3";  // Debian base-files
  if (!std::filesystem::exists(corpus)) GTEST_SKIP() << corpus << " is missing";
  write_file_atomically(dir_ / "data" / "corpus.txt", read_file(corpus).substr(0, 12000));
  const auto base = std::filesystem::path(TANDEM_LLM_EXE).parent_path() / "tandem-tiny.gguf";
  start_llm();
  start_trainer();
  std::filesystem::create_directories(dir_ / "staging");
  std::filesystem::create_directories(jobs() / "inbox");
  write_file_atomically(dir_ / "staging" / "tune.json",
                        nlohmann::json{{"kind", "finetune"},
                                       {"base_model", base.string()},
                                       {"dataset", (dir_ / "data" / "corpus.txt").string()},
                                       {"output_model", "tuned"},
                                       {"epochs", 2},
                                       {"context_length", 256},
                                       {"learning_rate", 0.002},
                                       {"validation_fraction", 0.15},
                                       {"checkpoint_every", 2},
                                       {"threads", 1}}
                            .dump());
  std::filesystem::rename(dir_ / "staging" / "tune.json", jobs() / "inbox" / "tune.json");
  const auto working = wait_trainer(
      [](const nlohmann::json& s) {
        return s["job_kind"] == "finetune" && s["items_done"].get<int>() >= 5;
      },
      300s, "five finetune steps");
  EXPECT_EQ(working["epochs"], 2);
  EXPECT_EQ(working["items_total"], 18);  // 9 training windows, 2 epochs
  trainer_->signal(SIGKILL);
  ASSERT_EQ(trainer_->wait(30s), 128 + SIGKILL);
  start_trainer();
  wait_trainer([](const nlohmann::json& s) { return s["jobs_done"] == 1; }, 600s,
               "the finetune job to finish");

  const auto work = done_work("tune");
  testing::expect_a_resumed_finetune(work, 18, 2, "tuned");
  EXPECT_NE(read_file(dir_ / "trainer.out").find("resuming after step"), std::string::npos);

  // The server scores held-out text of the licence (past what was trained on) better with the
  // output model than with the base: mean log-probability per token, /v1/completions echo.
  const std::string held_out = read_file(corpus).substr(20000, 1500);
  auto mean_logprob = [&] {
    HttpClient http("http://127.0.0.1:" + std::to_string(published_port()));
    const auto r = http.post_json(
        "/v1/completions",
        nlohmann::json{{"prompt", held_out}, {"echo", true}, {"logprobs", 0}, {"max_tokens", 0}}
            .dump());
    EXPECT_EQ(r.status, 200) << r.body;
    const auto values = nlohmann::json::parse(r.body)["choices"][0]["logprobs"]["token_logprobs"];
    double sum = 0;
    int n = 0;
    for (const auto& v : values) {
      if (v.is_null()) continue;  // the first token has no context to be scored in
      sum += v.get<double>();
      ++n;
    }
    EXPECT_GT(n, 100);
    return sum / std::max(n, 1);
  };
  const double base_score = mean_logprob();
  trainer_->signal(SIGTERM);
  ASSERT_EQ(trainer_->wait(30s), 0);
  llm_->signal(SIGTERM);
  ASSERT_EQ(llm_->wait(30s), 0);
  auto config = nlohmann::json::parse(read_file(dir_ / "etc" / "llm-server.json"));
  config["model"] = (work / "tuned.gguf").string();
  write_file_atomically(dir_ / "etc" / "llm-server.json", config.dump(2));
  start_llm();
  const double tuned_score = mean_logprob();
  std::printf("held-out licence text, mean log-probability per token: base %.3f, tuned %.3f\n",
              base_score, tuned_score);
  EXPECT_GT(tuned_score, base_score + 1.0);
}

// Issue 17: a job runs as the trainer's account, so a jobs folder others may write is one a
// `command` job could be planted in. The real trainer runs nothing from it and says which folder
// and why, in its status and to `tandemctl status`; made private again, it goes on by itself.
TEST_F(LinuxPairTest, AWorldWritableInboxRunsNoJobAndTandemctlStatusSaysWhy) {
  start_llm();
  submit_distill("planted", dataset("planted.jsonl", 4));
  const auto inbox = jobs() / "inbox";
  std::filesystem::permissions(inbox, std::filesystem::perms::all);  // 0777
  start_trainer();
  const auto blocked = wait_trainer([](const nlohmann::json& s) { return s["state"] == "blocked"; },
                                    60s, "the trainer to refuse the world-writable inbox");
  const std::string reason = inbox.string() + ": it allows others write (o+w)";
  EXPECT_NE(blocked["last_error"].get<std::string>().find(reason), std::string::npos)
      << blocked.dump();
  EXPECT_EQ(blocked["job"], nullptr) << blocked.dump();
  EXPECT_TRUE(std::filesystem::exists(inbox / "planted.json"));
  const auto [code, shown] = ctl({"status"});
  EXPECT_NE(shown.find("trainer        blocked"), std::string::npos) << shown;
  EXPECT_NE(shown.find(reason), std::string::npos) << shown;
  EXPECT_NE(read_file(dir_ / "trainer.out").find(reason), std::string::npos);

  // Private again; the next job dropped wakes the trainer, which now runs both.
  std::filesystem::permissions(
      inbox, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                 std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                 std::filesystem::perms::others_exec);
  submit_distill("second", dataset("second.jsonl", 4));
  const auto done = wait_trainer([](const nlohmann::json& s) { return s["jobs_done"] == 2; }, 180s,
                                 "both jobs to run once the inbox is private again");
  EXPECT_EQ(done["last_error"], "") << done.dump();
}

TEST_F(LinuxPairTest, WithoutTheServerTheTrainerSaysWhyAndGoesOnWhenItComes) {
  write_trainer_config({{"resolve_timeout_ms", 1500}});
  start_trainer();  // no Requires= here: a server that is not there
  submit_distill("patient", dataset("patient.jsonl", 10));
  const auto waiting = wait_trainer(
      [](const nlohmann::json& s) {
        return s["state"] == "waiting" && !s["last_error"].get<std::string>().empty();
      },
      60s, "the trainer to report the missing server");
  EXPECT_NE(waiting["last_error"].get<std::string>().find("not ready within 1500 ms"),
            std::string::npos)
      << waiting.dump();
  EXPECT_EQ(waiting["items_done"], 0);

  start_llm();
  const auto done = wait_trainer([](const nlohmann::json& s) { return s["jobs_done"] == 1; }, 180s,
                                 "the job to finish once the server is up");
  EXPECT_EQ(done["jobs_failed"], 0);
  expect_each_labelled_once("patient", 10);
}

TEST_F(LinuxPairTest, ACommandJobGetsTheLiveEndpointAndItsOutputIsLogged) {
  start_llm();
  start_trainer();
  write_file_atomically(
      dir_ / "script.json",
      nlohmann::json{
          {"kind", "command"},
          {"command", {"/bin/sh", "-c", "echo url=$TANDEM_LLM_URL base=$OPENAI_BASE_URL"}}}
          .dump());
  const auto [code, placed] = ctl({"submit", (dir_ / "script.json").string()});
  ASSERT_EQ(code, 0) << placed;
  EXPECT_EQ(placed, (jobs() / "inbox" / "script.json").string() +
                        "\ntandemctl: queued as 'script'; wait for it with `tandemctl jobs "
                        "--wait script`\n");
  // Followed to its end with tandemctl, as on Windows (README: `jobs --wait`).
  const auto [wait_code, waited] = ctl({"jobs", "--wait", "script", "--timeout", "60"});
  ASSERT_EQ(wait_code, 0) << waited;
  EXPECT_EQ(waited.rfind((jobs() / "done" / "script-").string(), 0), 0u) << waited;
  EXPECT_NE(waited.find("tandemctl: job script-"), std::string::npos) << waited;
  const auto values = wait_trainer([](const nlohmann::json& s) { return s["jobs_done"] == 1; }, 60s,
                                   "the command job to finish");
  EXPECT_EQ(values["jobs_failed"], 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(port_);
  const auto log = read_file(dir_ / "logs" / "tandem-trainer.log");
  EXPECT_NE(log.find("url=" + url + " base=" + url + "/v1"), std::string::npos) << log;
  // tandemctl logs reads the same file, and `jobs` lists the job done.
  const auto [logs_code, tail] = ctl({"logs", "trainer", "--lines", "1000"});
  EXPECT_EQ(logs_code, 0) << tail;
  EXPECT_NE(tail.find("url=" + url + " base=" + url + "/v1"), std::string::npos) << tail;
  const auto [jobs_code, listed] = ctl({"jobs"});
  EXPECT_EQ(jobs_code, 0) << listed;
  EXPECT_EQ(listed.rfind("done     script-", 0), 0u) << listed;
}

TEST_F(LinuxPairTest, TandemctlSaysPlainlyWhatItLeavesToTheDebAndSystemd) {
  for (const char* command : {"install", "uninstall", "configure-services"}) {
    const auto [code, text] = ctl({command});
    EXPECT_EQ(code, 2) << command << ": " << text;
    EXPECT_NE(text.find(".deb"), std::string::npos) << text;
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  }
  // Here systemd does not run the services (or has no such units): start says which, exit 3.
  const auto [code, text] = ctl({"start", "--timeout", "5"});
  EXPECT_EQ(code, 3) << text;
  EXPECT_TRUE(text.find("systemd is not running") != std::string::npos ||
              text.find("is not installed") != std::string::npos)
      << text;
  const auto [status_code, status] = ctl({"status"});
  EXPECT_EQ(status_code, 1) << status;
  EXPECT_NE(status.find("verified       no: "), std::string::npos) << status;
}

TEST_F(LinuxPairTest, ABadConfigOrASquatterFailsWithTheWindowsExitCodes) {
  write_file_atomically(dir_ / "etc" / "bad.json", "{\"port\": \"eighty\"}");
  NotifyListener notify;
  SpawnedProcess bad(TANDEM_LLM_EXE, {"--config", (dir_ / "etc/bad.json").string()}, env(notify),
                     dir_ / "llm.out");
  EXPECT_EQ(bad.wait(60s), llm::kExitBadConfig);
  EXPECT_NE(read_file(dir_ / "llm.out").find("bad.json:1"), std::string::npos);

  testing::ForeignListener squatter((runtime() / posix::kLlmSocket).string(), "{}");
  SpawnedProcess behind(TANDEM_LLM_EXE, {"--config", (dir_ / "etc/llm-server.json").string()},
                        env(notify), dir_ / "llm.out");
  EXPECT_EQ(behind.wait(60s), llm::kExitPublishFailed);
  EXPECT_FALSE(notify.wait_for_line("READY=1", 0ms)) << "READY=1 from a server that failed";
  EXPECT_FALSE(std::filesystem::exists(runtime() / posix::kLlmPublicationFile));
}

}  // namespace
}  // namespace tandem
