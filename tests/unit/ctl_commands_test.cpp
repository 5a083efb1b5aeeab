// tandemctl's one command table and its command bodies, natively, over fakes of the Platform's
// interfaces: services that start, stop and fail on cue, a resolver, the publications, a spool
// and logs in a temporary folder. What each prints and its exit code are what README's tandemctl
// table promises on both systems.
#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "ctl/platform.h"
#include "tests/support/temp_dir.h"

namespace tandem::ctl {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// --- fakes ------------------------------------------------------------------------------------

struct FakeUnit {
  bool installed = true;
  ServiceInfo info;
  std::uint32_t next_pid = 0;
  std::uint32_t fails_with = 0;  // a start ends stopped with this exit code
};

struct FakeSystem {
  std::map<std::string, FakeUnit> units;
  std::vector<std::string> calls;  // "start TandemLlm", "stop TandemTrainer", ...
  bool denied = false;             // opening for control is refused
};

class FakeController final : public ServiceController {
 public:
  FakeController(FakeSystem& system, std::string name) : system_(system), name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  ServiceInfo query() override { return unit().info; }
  void start(std::chrono::milliseconds) override {
    system_.calls.push_back("start " + name_);
    FakeUnit& u = unit();
    u.info = u.fails_with ? ServiceInfo{ServiceRunState::stopped, 0, u.fails_with}
                          : ServiceInfo{ServiceRunState::running, u.next_pid++, 0};
  }
  void stop() override {
    system_.calls.push_back("stop " + name_);
    unit().info = ServiceInfo{};
  }
  void resume() override { system_.calls.push_back("resume " + name_); }
  ServiceInfo wait_for_state(ServiceRunState target, std::chrono::milliseconds) override {
    if (unit().info.state == target) return unit().info;
    throw Error("waiting for service " + name_ + " to be " + std::string(to_string(target)) +
                ": it stopped (service exit code " + std::to_string(unit().info.exit_code) + ")");
  }

 private:
  FakeUnit& unit() { return system_.units.at(name_); }
  FakeSystem& system_;
  std::string name_;
};

class FakeManager final : public ServiceManager {
 public:
  explicit FakeManager(FakeSystem& system) : system_(system) {}
  std::unique_ptr<ServiceController> open(const std::string& name, Access access) override {
    if (access == Access::control && system_.denied) {
      throw SystemError("OpenServiceW(" + name + ") failed: Access is denied. (error 5)", true);
    }
    auto it = system_.units.find(name);
    if (it == system_.units.end() || !it->second.installed) return nullptr;
    return std::make_unique<FakeController>(system_, name);
  }

 private:
  FakeSystem& system_;
};

class FakeResolver final : public discovery::Resolver {
 public:
  explicit FakeResolver(std::optional<discovery::Endpoint> live) : live_(std::move(live)) {}
  std::optional<discovery::Endpoint> resolve(std::string& why) override {
    if (!live_) why = "no publication";
    return live_;
  }
  discovery::Endpoint wait_ready(std::chrono::milliseconds timeout, std::stop_token) override {
    if (!live_) {
      throw Error("TandemLlm not ready within " + std::to_string(timeout.count()) + " ms");
    }
    return *live_;
  }

 private:
  std::optional<discovery::Endpoint> live_;
};

// Never fires: every wait below ends by its own bound or by finding the job ended at once.
class QuietWatch final : public FolderWatch {
 public:
  bool wait_for_change(std::chrono::milliseconds timeout, std::stop_token stop) override {
    std::mutex mutex;
    std::condition_variable_any never;
    std::unique_lock lock(mutex);
    never.wait_for(lock, stop, timeout, [] { return false; });
    return false;
  }
};

std::string drain(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string text;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, f)) > 0;) text.append(buffer, n);
  return text;
}

class CtlCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    system_.units["TandemLlm"] = {true, {}, 100, 0};
    system_.units["TandemTrainer"] = {true, {}, 200, 0};
    fs::create_directories(dir_ / "logs");
    write_file_atomically(dir_ / "trainer.json",
                          nlohmann::json{{"jobs_dir", path_utf8(jobs())}}.dump());
    p_.llm_service = "TandemLlm";
    p_.trainer_service = "TandemTrainer";
    p_.open_services = [this] { return std::make_unique<FakeManager>(system_); };
    p_.make_resolver = [this] { return std::make_unique<FakeResolver>(live_); };
    p_.read_publication = [this] { return published_; };
    p_.read_trainer_status = [this] { return trainer_; };
    p_.make_watch = [](const fs::path&) { return std::make_unique<QuietWatch>(); };
    p_.trainer_config = dir_ / "trainer.json";
    p_.logs_dir = dir_ / "logs";
    p_.elevate_hint = "run it elevated";
    p_.jobs_access_hint = "the jobs folder needs rights";
    p_.install_hint = "install it";
    p_.no_installer = "use the package";
  }

  struct Result {
    int code;
    std::string out, err;
  };
  // Files of the test's own folder, not std::tmpfile(): Wine's msvcrt makes those in the root of
  // the current drive and returns NULL when it cannot, and a NULL stream handed to fprintf or
  // rewind crashes the process with an access violation before it prints anything.
  std::FILE* capture(const char* name) {
    const fs::path file = dir_ / name;
    std::FILE* f = std::fopen(file.string().c_str(), "w+b");
    if (!f) throw std::runtime_error("cannot open " + file.string() + " to capture output");
    return f;
  }
  Result ctl(std::vector<std::string> words) {
    p_.out = capture("ctl-out.txt");
    p_.err = capture("ctl-err.txt");
    const int code = run_tandemctl(std::move(words), p_);
    Result r{code, drain(p_.out), drain(p_.err)};
    std::fclose(p_.out);
    std::fclose(p_.err);
    return r;
  }

  fs::path jobs() const { return dir_ / "spool"; }

  static discovery::Endpoint endpoint() {
    discovery::Endpoint e;
    e.state = discovery::State::ready;
    e.port = 8031;
    e.url = "http://127.0.0.1:8031";
    e.pid = 100;
    e.instance_id = "inst-1";
    e.model = "tandem-tiny";
    return e;
  }

  testing::TempDir dir_;
  FakeSystem system_;
  std::optional<discovery::Endpoint> live_, published_;
  std::optional<TrainerStatus> trainer_;
  Platform p_;
};

// --- the table --------------------------------------------------------------------------------

TEST_F(CtlCommandsTest, UnknownCommandsAndBadWordsAreUsageErrors) {
  auto r = ctl({"frobnicate"});
  EXPECT_EQ(r.code, kUsage);
  EXPECT_EQ(r.err.rfind("tandemctl: unknown command 'frobnicate'\nusage:\n", 0), 0u) << r.err;
  r = ctl({"start", "nosuch"});
  EXPECT_EQ(r.code, kUsage);
  EXPECT_EQ(r.err,
            "tandemctl: unknown service 'nosuch': use llm, trainer or all\n"
            "usage: tandemctl start [llm|trainer|all] [--timeout SECONDS]\n");
  EXPECT_TRUE(system_.calls.empty());
  r = ctl({"--help"});
  EXPECT_EQ(r.code, kOk);
  EXPECT_NE(r.out.find("  tandemctl jobs [--json] [--wait NAME [--timeout SECONDS]]\n"),
            std::string::npos);
}

TEST_F(CtlCommandsTest, InstallerCommandsSayWhatToUseWhereThereAreNone) {
  for (const char* command : {"install", "uninstall", "configure-services"}) {
    auto r = ctl({command});
    EXPECT_EQ(r.code, kUsage) << command;
    EXPECT_EQ(r.err, "tandemctl: " + std::string(command) + ": use the package\n");
  }
  int called = 0;
  p_.install = [&](Args& args) {
    args.done();
    ++called;
    return kOk;
  };
  EXPECT_EQ(ctl({"install"}).code, kOk);
  EXPECT_EQ(called, 1);
}

// --- start, stop, restart ---------------------------------------------------------------------

TEST_F(CtlCommandsTest, StartBringsUpTheServerFirstAndSaysWhatRunsAlready) {
  auto r = ctl({"start", "trainer"});
  EXPECT_EQ(r.code, kOk) << r.err;
  EXPECT_EQ(r.out, "TandemLlm      running (pid 100)\nTandemTrainer  running (pid 200)\n");
  EXPECT_EQ(system_.calls, (std::vector<std::string>{"start TandemLlm", "start TandemTrainer"}));
  r = ctl({"start"});
  EXPECT_EQ(r.out,
            "TandemLlm      running (pid 100)  (already)\n"
            "TandemTrainer  running (pid 200)  (already)\n");
}

TEST_F(CtlCommandsTest, StoppingTheServerStopsTheTrainerFirst) {
  ASSERT_EQ(ctl({"start"}).code, kOk);
  system_.calls.clear();
  auto r = ctl({"stop", "llm"});
  EXPECT_EQ(r.code, kOk) << r.err;
  EXPECT_EQ(r.out, "TandemTrainer  stopped\nTandemLlm      stopped\n");
  EXPECT_EQ(system_.calls, (std::vector<std::string>{"stop TandemTrainer", "stop TandemLlm"}));
  r = ctl({"stop", "llm"});
  EXPECT_EQ(r.out, "TandemLlm      stopped  (already)\n");
}

TEST_F(CtlCommandsTest, RestartingTheServerBringsBackTheTrainer) {
  ASSERT_EQ(ctl({"start"}).code, kOk);
  system_.calls.clear();
  auto r = ctl({"restart", "llm"});
  EXPECT_EQ(r.code, kOk) << r.err;
  EXPECT_EQ(system_.calls, (std::vector<std::string>{"stop TandemTrainer", "stop TandemLlm",
                                                     "start TandemLlm", "start TandemTrainer"}));
  EXPECT_EQ(system_.units["TandemLlm"].info.pid, 101u);
}

TEST_F(CtlCommandsTest, NothingStartsWhenAServiceIsNotInstalled) {
  system_.units["TandemTrainer"].installed = false;
  auto r = ctl({"start"});
  EXPECT_EQ(r.code, kFailed);
  EXPECT_EQ(r.err, "tandemctl: TandemTrainer is not installed: install it\n");
  EXPECT_TRUE(system_.calls.empty());
}

TEST_F(CtlCommandsTest, AServiceThatStopsWhileStartingNamesItsLog) {
  system_.units["TandemLlm"].fails_with = 5;
  auto r = ctl({"start", "llm"});
  EXPECT_EQ(r.code, kFailed);
  EXPECT_NE(r.err.find("it stopped (service exit code 5)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("tandemctl: see " + path_utf8(dir_ / "logs" / "tandem-llm.log")),
            std::string::npos)
      << r.err;
}

TEST_F(CtlCommandsTest, AccessDeniedIsExitCodeFourWithTheHint) {
  system_.denied = true;
  auto r = ctl({"stop"});
  EXPECT_EQ(r.code, kDenied);
  EXPECT_EQ(r.err,
            "tandemctl: OpenServiceW(TandemTrainer) failed: Access is denied. (error 5)\n"
            "tandemctl: run it elevated\n");
}

// --- status, url, wait ------------------------------------------------------------------------

TEST_F(CtlCommandsTest, StatusShowsServicesEndpointAndTrainer) {
  ASSERT_EQ(ctl({"start"}).code, kOk);
  live_ = published_ = endpoint();
  TrainerStatus t;
  t.state = "working";
  t.job = "demo-1234abcd";
  t.items_done = 3;
  t.items_total = 24;
  t.jobs_done = 1;
  trainer_ = t;
  auto r = ctl({"status"});
  EXPECT_EQ(r.code, kOk) << r.err;
  EXPECT_EQ(r.out,
            "TandemLlm      running (pid 100)\n"
            "TandemTrainer  running (pid 200)\n"
            "endpoint       ready http://127.0.0.1:8031\n"
            "model          tandem-tiny (test model: output is meaningless - set `model` in "
            "llm-server.json)\n"
            "instance       inst-1\n"
            "verified       yes\n"
            "trainer        working demo-1234abcd 3/24 (jobs done 1, failed 0)\n");

  r = ctl({"status", "--json"});
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["services"][1]["state"], "running");
  EXPECT_EQ(j["llm"]["port"], 8031);
  EXPECT_EQ(j["trainer"]["items_total"], 24);
  EXPECT_EQ(j["verified"], true);
}

TEST_F(CtlCommandsTest, StatusShowsTheCpuVariantAndEachDevice) {
  ASSERT_EQ(ctl({"start"}).code, kOk);
  live_ = published_ = endpoint();
  published_->cpu_variant = "haswell";
  published_->cpu_features = "AVX AVX2 FMA";
  published_->devices = {{"CPU", "Intel Core i7", "cpu", 3ull << 29, 8ull << 30}};
  auto r = ctl({"status"});
  EXPECT_NE(r.out.find("instance       inst-1\n"
                       "cpu variant    haswell (AVX AVX2 FMA)\n"
                       "device         CPU: Intel Core i7 (cpu, 1.5 GiB free of 8.0 GiB)\n"
                       "verified       yes\n"),
            std::string::npos)
      << r.out;
  const auto j = nlohmann::json::parse(ctl({"status", "--json"}).out);
  EXPECT_EQ(j["llm"]["cpu_variant"], "haswell");
  EXPECT_EQ(j["llm"]["devices"][0]["memory_total"], 8ull << 30);
}

TEST_F(CtlCommandsTest, StatusWithoutAServiceManagerSaysSoAndStillAnswers) {
  p_.open_services = []() -> std::unique_ptr<ServiceManager> {
    throw ServiceManagerUnavailable("systemd is not running on this machine");
  };
  auto r = ctl({"status"});
  EXPECT_EQ(r.code, kNotReady);
  EXPECT_EQ(r.out,
            "TandemLlm      unknown: systemd is not running on this machine\n"
            "TandemTrainer  unknown: systemd is not running on this machine\n"
            "verified       no: no publication\n");
  r = ctl({"start"});
  EXPECT_EQ(r.code, kFailed);
  EXPECT_EQ(r.err, "tandemctl: systemd is not running on this machine\n");
}

TEST_F(CtlCommandsTest, UrlAndWaitPrintOnlyTheUrl) {
  auto r = ctl({"url"});
  EXPECT_EQ(r.code, kNotReady);
  EXPECT_EQ(r.err, "tandemctl: no live TandemLlm endpoint: no publication\n");
  r = ctl({"wait", "--timeout", "0"});
  EXPECT_EQ(r.code, kNotReady);
  EXPECT_EQ(r.err, "tandemctl: TandemLlm not ready within 0 ms\n");
  live_ = endpoint();
  EXPECT_EQ(ctl({"url"}).out, "http://127.0.0.1:8031\n");
  EXPECT_EQ(ctl({"wait"}).out, "http://127.0.0.1:8031\n");
}

// --- submit, jobs, logs -----------------------------------------------------------------------

TEST_F(CtlCommandsTest, SubmitPlacesTheJobInTheConfiguredSpool) {
  write_file_atomically(dir_ / "task.json",
                        nlohmann::json{{"kind", "command"}, {"command", {"echo", "hi"}}}.dump());
  auto r = ctl({"submit", path_utf8(dir_ / "task.json")});
  EXPECT_EQ(r.code, kOk) << r.err;
  EXPECT_EQ(r.out, path_utf8(jobs() / "inbox" / "task.json") + "\n");
  EXPECT_EQ(r.err, "tandemctl: queued as 'task'; wait for it with `tandemctl jobs --wait task`\n");
  const auto placed = nlohmann::json::parse(read_file(jobs() / "inbox" / "task.json"));
  EXPECT_EQ(placed["working_dir"], path_utf8(dir_.path()));
}

TEST_F(CtlCommandsTest, JobsWaitEndsWithTheOutcome) {
  for (const char* folder : {"active", "done", "failed"}) fs::create_directories(jobs() / folder);
  write_file_atomically(jobs() / "done" / "small-0123abcd.json", "{}");
  fs::create_directories(jobs() / "done" / "small-0123abcd.work");
  write_file_atomically(jobs() / "failed" / "bad-89abcdef.json", "{}");
  write_file_atomically(jobs() / "failed" / "bad-89abcdef.reason.txt", "data.jsonl:2: bad\n");

  auto r = ctl({"jobs", "--wait", "small"});
  EXPECT_EQ(r.code, kOk) << r.err;
  EXPECT_EQ(r.out, path_utf8(jobs() / "done" / "small-0123abcd.work") + "\n");
  r = ctl({"jobs", "--wait", "bad"});
  EXPECT_EQ(r.code, kNotReady);
  EXPECT_EQ(r.err.rfind("tandemctl: job bad-89abcdef failed: data.jsonl:2: bad\n", 0), 0u) << r.err;

  write_file_atomically(jobs() / "active" / "busy-00000001.json", "{}");
  TrainerStatus t;
  t.state = "working";
  t.job = "busy-00000001";
  t.items_done = 2;
  t.items_total = 9;
  trainer_ = t;
  r = ctl({"jobs", "--wait", "busy", "--timeout", "0"});
  EXPECT_EQ(r.code, kNotReady);
  EXPECT_EQ(r.err,
            "tandemctl: job 'busy' did not end within 0 s: it is still running as busy-00000001 "
            "(2/9 items, trainer working)\n");
  r = ctl({"jobs"});
  EXPECT_EQ(r.code, kOk);
  EXPECT_EQ(r.out,
            "running  busy-00000001  2/9 items\n"
            "done     small-0123abcd\n"
            "failed   bad-89abcdef  data.jsonl:2: bad\n");
}

TEST_F(CtlCommandsTest, JobsWaitWithoutASpoolSaysTheTrainerHasNotRun) {
  auto r = ctl({"jobs", "--wait", "x"});
  EXPECT_EQ(r.code, kFailed);
  EXPECT_EQ(r.err, "tandemctl: no spool at " + path_utf8(jobs()) +
                       " (no done folder): has TandemTrainer run?\n");
}

TEST_F(CtlCommandsTest, LogsPrintsTheEndOfTheServicesLog) {
  auto r = ctl({"logs", "trainer"});
  EXPECT_EQ(r.code, kNotReady);
  EXPECT_NE(r.err.find("no log at"), std::string::npos);
  write_file_atomically(dir_ / "logs" / "tandem-trainer.log", "one\ntwo\nthree\n");
  write_file_atomically(dir_ / "logs" / "tandem-llm.log", "llm\n");
  r = ctl({"logs", "trainer", "--lines", "2"});
  EXPECT_EQ(r.code, kOk) << r.err;
  EXPECT_EQ(r.out, "two\nthree\n");
  EXPECT_EQ(ctl({"logs"}).out, "llm\n");
}

TEST_F(CtlCommandsTest, LogsFollowEndsOnAStop) {
  write_file_atomically(dir_ / "logs" / "tandem-llm.log", "first\n");
  std::stop_source stop;
  stop.request_stop();
  p_.stop = stop.get_token();
  auto r = ctl({"logs", "--follow"});
  EXPECT_EQ(r.code, kOk);
  EXPECT_EQ(r.out, "first\n");
}

}  // namespace
}  // namespace tandem::ctl
