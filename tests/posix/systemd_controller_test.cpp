// The systemd ServiceController: `systemctl show` read into SCM-like states, and start, stop and
// waits through a scripted systemctl (a fake launcher that answers as systemctl would), so the
// calls made and what is concluded from each answer are checked without systemd.
#include "common/posix/systemd_controller.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "common/error.h"
#include "tests/support/temp_dir.h"

namespace tandem::posix {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> show(const std::string& active, const std::string& sub = "running",
                              const std::string& pid = "0", const std::string& status = "0") {
  return {"LoadState=loaded", "ActiveState=" + active, "SubState=" + sub, "MainPID=" + pid,
          "ExecMainStatus=" + status};
}

TEST(SystemdUnitState, MapsSystemdsStatesOntoTheScmsWords) {
  auto running = parse_unit_state(show("active", "running", "4242"));
  EXPECT_TRUE(running.installed);
  EXPECT_EQ(running.info.state, ServiceRunState::running);
  EXPECT_EQ(running.info.pid, 4242u);
  EXPECT_EQ(parse_unit_state(show("activating", "start", "7")).info.state,
            ServiceRunState::start_pending);
  EXPECT_EQ(parse_unit_state(show("deactivating", "stop-sigterm", "7")).info.state,
            ServiceRunState::stop_pending);
  const auto failed = parse_unit_state(show("failed", "failed", "0", "2"));
  EXPECT_EQ(failed.info.state, ServiceRunState::stopped);
  EXPECT_EQ(failed.info.exit_code, 2u);
  // A failed run waiting for Restart= is stopped, with the failure's code.
  const auto restarting = parse_unit_state(show("activating", "auto-restart", "0", "5"));
  EXPECT_EQ(restarting.info.state, ServiceRunState::stopped);
  EXPECT_EQ(restarting.info.exit_code, 5u);
  const auto clean = parse_unit_state(show("inactive", "dead", "0", "0"));
  EXPECT_EQ(clean.info.state, ServiceRunState::stopped);
  EXPECT_EQ(clean.info.pid, 0u);
  EXPECT_FALSE(parse_unit_state({"LoadState=not-found", "ActiveState=inactive"}).installed);
}

// Plays systemctl: each call's words after --no-ask-password go to `answer`.
class ScriptedSystemctl final : public ProcessLauncher {
 public:
  using Answer = std::function<ProcessExit(const std::vector<std::string>&, const LineCallback&)>;
  explicit ScriptedSystemctl(std::vector<std::string>& calls, Answer answer)
      : calls_(calls), answer_(std::move(answer)) {}
  ProcessExit run(const ProcessSpec& spec, const LineCallback& on_line, std::stop_token) override {
    EXPECT_EQ(spec.argv.at(0), "systemctl");
    EXPECT_EQ(spec.argv.at(1), "--no-ask-password");
    std::vector<std::string> words(spec.argv.begin() + 2, spec.argv.end());
    std::string call;
    for (const auto& w : words) call += (call.empty() ? "" : " ") + w;
    calls_.push_back(call);
    return answer_(words, on_line);
  }

 private:
  std::vector<std::string>& calls_;
  Answer answer_;
};

class SystemdControllerTest : public ::testing::Test {
 protected:
  std::unique_ptr<SystemdServiceManager> manager(ScriptedSystemctl::Answer answer) {
    std::filesystem::create_directories(booted_ / "systemd");
    return std::make_unique<SystemdServiceManager>(
        std::make_unique<ScriptedSystemctl>(calls_, std::move(answer)), booted_ / "systemd");
  }

  // A unit whose state the scripted verbs change: start makes it `after_start`, stop inactive.
  ScriptedSystemctl::Answer unit(std::vector<std::string>& state,
                                 std::vector<std::string> after_start, int start_exit = 0,
                                 std::string start_says = "") {
    return [&state, after_start, start_exit, start_says](const std::vector<std::string>& w,
                                                         const LineCallback& line) {
      if (w[0] == "show") {
        for (const auto& l : state) line(Stream::out, l);
        return ProcessExit{0, false};
      }
      if (w[0] == "start") {
        state = after_start;
        if (!start_says.empty()) line(Stream::err, start_says);
        return ProcessExit{start_exit, false};
      }
      if (w[0] == "stop") state = show("inactive", "dead");
      return ProcessExit{0, false};
    };
  }

  testing::TempDir booted_;
  std::vector<std::string> calls_;
};

TEST_F(SystemdControllerTest, WithoutSystemdRunningTheManagerIsUnavailable) {
  EXPECT_THROW(SystemdServiceManager(nullptr, booted_ / "no-systemd"), ServiceManagerUnavailable);
}

TEST_F(SystemdControllerTest, AUnitThatIsNotThereIsNotInstalled) {
  auto m = manager([](const std::vector<std::string>&, const LineCallback& line) {
    line(Stream::out, "LoadState=not-found");
    return ProcessExit{0, false};
  });
  EXPECT_EQ(m->open("tandem-llm", ServiceManager::Access::query), nullptr);
  EXPECT_EQ(calls_.at(0),
            "show tandem-llm.service "
            "--property=LoadState,ActiveState,SubState,MainPID,ExecMainStatus");
}

TEST_F(SystemdControllerTest, StartAndStopAreSystemdsJobs) {
  auto state = show("inactive", "dead");
  auto m = manager(unit(state, show("active", "running", "321")));
  auto llm = m->open("tandem-llm", ServiceManager::Access::control);
  ASSERT_NE(llm, nullptr);
  llm->start(5s);
  const auto running = llm->wait_for_state(ServiceRunState::running, 5s);
  EXPECT_EQ(running.pid, 321u);
  llm->stop();
  EXPECT_EQ(llm->wait_for_state(ServiceRunState::stopped, 5s).state, ServiceRunState::stopped);
  std::vector<std::string> verbs;
  for (const auto& c : calls_) verbs.push_back(c.substr(0, c.find(" tandem-llm.service")));
  EXPECT_EQ(verbs, (std::vector<std::string>{"show", "start", "show", "stop --no-block", "show"}));
}

TEST_F(SystemdControllerTest, AUnitThatFailsToStartIsReportedStoppedWithItsExitCode) {
  auto state = show("inactive", "dead");
  auto m = manager(unit(state, show("activating", "auto-restart", "0", "2"), 1,
                        "Job for tandem-llm.service failed because the control process exited "
                        "with error code."));
  auto llm = m->open("tandem-llm", ServiceManager::Access::control);
  llm->start(5s);  // the failure is the wait's to report, with the service's own code
  try {
    llm->wait_for_state(ServiceRunState::running, 5s);
    FAIL() << "a failed unit reached running";
  } catch (const SystemError& e) {
    FAIL() << "a failed unit is not a failed call: " << e.what();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "waiting for service tandem-llm to be running: it stopped (exit code 2)");
  }
}

TEST_F(SystemdControllerTest, PolkitsRefusalIsAccessDenied) {
  auto state = show("inactive", "dead");
  auto m = manager(unit(state, show("inactive", "dead"), 1,
                        "Failed to start tandem-llm.service: Interactive authentication "
                        "required."));
  auto llm = m->open("tandem-llm", ServiceManager::Access::control);
  try {
    llm->start(5s);
    FAIL() << "a refused start passed";
  } catch (const SystemError& e) {
    EXPECT_TRUE(e.access_denied()) << e.what();
    EXPECT_NE(std::string(e.what()).find("systemctl start tandem-llm.service failed"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(SystemdControllerTest, WaitingForAStartInProgressJoinsItsJob) {
  auto state = show("activating", "start", "77");
  auto m = manager(unit(state, show("active", "running", "77")));
  auto trainer = m->open("tandem-trainer", ServiceManager::Access::control);
  EXPECT_EQ(trainer->query().state, ServiceRunState::start_pending);
  EXPECT_EQ(trainer->wait_for_state(ServiceRunState::running, 5s).pid, 77u);
  EXPECT_NE(std::find(calls_.begin(), calls_.end(), "start tandem-trainer.service"), calls_.end());
}

}  // namespace
}  // namespace tandem::posix
