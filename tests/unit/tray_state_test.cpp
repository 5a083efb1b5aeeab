// tandem-tray's state model: which inputs give which colour, tooltip, menu and notifications.
#include "tray/tray_state.h"
#include "tray/status_text.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace tandem::tray {
namespace {

using namespace std::chrono_literals;
using State = ServiceRunState;

constexpr std::uint32_t kLlmPid = 348;
constexpr std::uint32_t kTrainerPid = 512;

discovery::Endpoint ready_endpoint(std::uint32_t pid = kLlmPid) {
  discovery::Endpoint e;
  e.state = discovery::State::ready;
  e.port = 8031;
  e.url = "http://127.0.0.1:8031";
  e.pid = pid;
  e.model = "tandem-tiny";
  return e;
}

TrainerValues trainer_values(std::string state = "idle") {
  TrainerValues t;
  t.state = std::move(state);
  t.pid = kTrainerPid;
  return t;
}

// Both services running, the endpoint verified, the trainer idle.
Snapshot healthy() {
  Snapshot s;
  s.llm = {State::running, kLlmPid};
  s.trainer = {State::running, kTrainerPid};
  s.publication = ready_endpoint();
  s.verified = true;
  s.trainer_values = trainer_values();
  return s;
}

Snapshot nothing_installed() {
  return Snapshot{};
}

TEST(TrayColour, GreenWhenServerReadyVerifiedAndTrainerRunning) {
  EXPECT_EQ(colour(healthy()), Colour::green);
  auto s = healthy();
  s.trainer_values = trainer_values("working");
  EXPECT_EQ(colour(s), Colour::green);
}

TEST(TrayColour, GreyWhenNothingIsInstalled) {
  EXPECT_EQ(colour(nothing_installed()), Colour::grey);
  // Leftover registry values do not make an uninstalled pair look alive.
  auto s = nothing_installed();
  s.publication = ready_endpoint();
  s.verified = true;
  EXPECT_EQ(colour(s), Colour::grey);
}

TEST(TrayColour, RedWhenAServiceIsStoppedOrMissing) {
  auto s = healthy();
  s.llm = {State::stopped, 0};
  EXPECT_EQ(colour(s), Colour::red);
  s = healthy();
  s.trainer = {State::stopped, 0};
  EXPECT_EQ(colour(s), Colour::red);
  s = healthy();
  s.trainer = {std::nullopt, 0};
  EXPECT_EQ(colour(s), Colour::red);
  s = healthy();
  s.llm = {State::stop_pending, kLlmPid};
  EXPECT_EQ(colour(s), Colour::red);
}

TEST(TrayColour, RedWhenTheEndpointDoesNotVerify) {
  auto s = healthy();
  s.verified = false;
  s.problem = "GET /health answered 503";
  EXPECT_EQ(colour(s), Colour::red);
  EXPECT_FALSE(llm_ready(s));
  EXPECT_EQ(llm_summary(s), "LLM endpoint does not verify");
}

TEST(TrayColour, StalePublicationNeverShowsReady) {
  // The registry still says ready from an earlier process; even a (wrong) verified flag does not
  // make it ready when the pid is not the SCM's.
  auto s = healthy();
  s.publication = ready_endpoint(kLlmPid + 1);
  EXPECT_FALSE(llm_ready(s));
  EXPECT_EQ(colour(s), Colour::red);
  EXPECT_EQ(llm_summary(s), "LLM endpoint stale (pid 349, service runs 348)");
  EXPECT_FALSE(menu_state(s).copy_url);
  EXPECT_EQ(tooltip(s).find("ready"), std::string::npos);

  s = healthy();
  s.llm = {State::stopped, 0};  // service gone, publication left behind
  EXPECT_FALSE(llm_ready(s));
  EXPECT_EQ(llm_summary(s), "LLM stopped");

  s = healthy();
  s.publication.reset();
  EXPECT_EQ(colour(s), Colour::red);
  EXPECT_EQ(llm_summary(s), "LLM running, no endpoint published");
}

TEST(TrayColour, AmberWhileStartingWaitingOrPaused) {
  auto s = healthy();
  s.llm = {State::start_pending, kLlmPid};
  s.publication->state = discovery::State::starting;
  s.verified = false;
  EXPECT_EQ(colour(s), Colour::amber);
  EXPECT_EQ(llm_summary(s), "LLM starting");

  s = healthy();
  s.publication->state = discovery::State::starting;  // running, still loading the model
  s.verified = false;
  EXPECT_EQ(colour(s), Colour::amber);
  EXPECT_EQ(llm_summary(s), "LLM loading model");

  s = healthy();
  s.trainer_values = trainer_values("waiting");
  EXPECT_EQ(colour(s), Colour::amber);
  EXPECT_EQ(trainer_summary(s), "trainer waiting for the LLM");

  s = healthy();
  s.trainer = {State::paused, kTrainerPid};
  s.trainer_values = trainer_values("paused");
  EXPECT_EQ(colour(s), Colour::amber);
  EXPECT_EQ(trainer_summary(s), "trainer paused");

  s = healthy();
  s.trainer_values->pid = 1;  // the trainer has not published for its new process yet
  EXPECT_EQ(colour(s), Colour::amber);
  EXPECT_EQ(trainer_summary(s), "trainer starting");
}

TEST(TrayColour, AmberAfterARecentJobFailure) {
  auto s = healthy();
  s.recent_job_failure = true;
  EXPECT_EQ(colour(s), Colour::amber);
  EXPECT_EQ(trainer_summary(s), "trainer idle (a job failed)");
}

TEST(TrayTooltip, OneLineWithPortAndJobProgress) {
  auto s = healthy();
  s.trainer_values = trainer_values("working");
  s.trainer_values->job = "demo";
  s.trainer_values->items_done = 42;
  s.trainer_values->items_total = 100;
  EXPECT_EQ(tooltip(s),
            "Tandem \xE2\x80\x94 LLM ready on 127.0.0.1:8031 \xC2\xB7 training demo 42%");
  EXPECT_EQ(job_percent(s), 42);
}

TEST(TrayTooltip, NotInstalled) {
  EXPECT_EQ(tooltip(nothing_installed()),
            "Tandem \xE2\x80\x94 LLM not installed \xC2\xB7 trainer not installed");
}

TEST(TrayTooltip, LongTextBecomesTwoLinesWithinTheLimit) {
  auto s = healthy();
  s.publication = ready_endpoint(kLlmPid + 7);
  s.trainer_values = trainer_values("working");
  s.trainer_values->job = std::string(300, 'j') + "\xF0\x9F\x98\x80";  // a long name, an emoji
  s.trainer_values->items_total = 10;
  const auto tip = tooltip(s);
  EXPECT_LE(utf16_length(tip), kMaxTooltip);
  EXPECT_EQ(std::count(tip.begin(), tip.end(), '\n'), 1);
  EXPECT_NE(tip.find("\xE2\x80\xA6"), std::string::npos);  // shortened, visibly
}

TEST(TrayTooltip, EveryStateFitsTheBuffer) {
  for (ServiceState llm : {ServiceState(), ServiceState(State::stopped),
                           ServiceState(State::start_pending), ServiceState(State::running)}) {
    for (ServiceState trainer : {ServiceState(), ServiceState(State::stopped),
                                 ServiceState(State::paused), ServiceState(State::running)}) {
      auto s = healthy();
      s.llm.state = llm;
      s.trainer.state = trainer;
      s.trainer_values->last_error = std::string(500, 'e');
      const auto tip = tooltip(s);
      EXPECT_LE(utf16_length(tip), kMaxTooltip) << tip;
      EXPECT_LE(std::count(tip.begin(), tip.end(), '\n'), 1) << tip;
    }
  }
}

TEST(TrayText, Utf16LengthAndTruncation) {
  EXPECT_EQ(utf16_length("abc"), 3u);
  EXPECT_EQ(utf16_length("\xE2\x80\x94"), 1u);      // em dash: one unit
  EXPECT_EQ(utf16_length("\xF0\x9F\x98\x80"), 2u);  // emoji: a surrogate pair
  EXPECT_EQ(truncate_utf16("abcdef", 6), "abcdef");
  EXPECT_EQ(truncate_utf16("abcdef", 4), "abc\xE2\x80\xA6");
  // Never cuts a character in half.
  EXPECT_EQ(truncate_utf16("a\xF0\x9F\x98\x80xyz", 3), "a\xE2\x80\xA6");
  EXPECT_EQ(truncate_utf16("abc", 0), "");
}

TEST(TrayMenu, StartOnlyWhenStoppedStopAndRestartOnlyWhenRunning) {
  auto m = menu_state(healthy());
  EXPECT_FALSE(m.llm.start);
  EXPECT_TRUE(m.llm.stop);
  EXPECT_TRUE(m.llm.restart);
  EXPECT_TRUE(m.trainer.stop);
  EXPECT_TRUE(m.copy_url);

  auto s = healthy();
  s.llm = {State::stopped, 0};
  s.trainer = {State::start_pending, kTrainerPid};
  m = menu_state(s);
  EXPECT_TRUE(m.llm.start);
  EXPECT_FALSE(m.llm.stop);
  EXPECT_FALSE(m.llm.restart);
  EXPECT_FALSE(m.trainer.start);
  EXPECT_FALSE(m.trainer.stop);
  EXPECT_FALSE(m.trainer.restart);
  EXPECT_FALSE(m.copy_url);

  m = menu_state(nothing_installed());
  EXPECT_FALSE(m.llm.start);
  EXPECT_FALSE(m.trainer.start);
  EXPECT_FALSE(m.copy_url);
}

TEST(TrayMenu, CopyUrlOnlyWhenVerified) {
  auto s = healthy();
  s.verified = false;
  EXPECT_FALSE(menu_state(s).copy_url);
}

class TrayMonitor : public ::testing::Test {
 protected:
  Monitor::Clock::time_point t0{std::chrono::hours(1)};
  Monitor monitor;

  std::vector<Notification> feed(Snapshot s, std::chrono::seconds at) {
    last = s;
    auto out = monitor.update(last, t0 + at);
    return out;
  }
  Snapshot last;
};

TEST_F(TrayMonitor, FirstSnapshotAnnouncesNothing) {
  auto s = healthy();
  s.llm = {State::stopped, 0};
  EXPECT_TRUE(feed(s, 0s).empty());
}

TEST_F(TrayMonitor, ServerStoppedUnexpectedly) {
  feed(healthy(), 0s);
  auto s = healthy();
  s.llm = {State::stopped, 0, 5};  // exit code 5: the model failed
  s.publication->state = discovery::State::stopped;
  auto out = feed(s, 1s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, Notification::Kind::server_stopped);
  EXPECT_TRUE(out[0].warning);
  EXPECT_EQ(out[0].text, "TandemLlm stopped unexpectedly (exit code 5); see its log.");
  EXPECT_TRUE(feed(s, 2s).empty());  // still stopped: no repeat
}

TEST_F(TrayMonitor, CrashLeavesThePublicationBehindAndIsASurprise) {
  feed(healthy(), 0s);
  auto s = healthy();
  s.llm = {State::stopped, 0, 0};  // the registry still says ready
  ASSERT_EQ(feed(s, 1s).size(), 1u);
}

TEST_F(TrayMonitor, CleanStopIsNotASurprise) {
  feed(healthy(), 0s);
  auto s = healthy();
  s.llm = {State::stopped, 0, 0};
  s.publication->state = discovery::State::stopped;  // withdrawn, exit code 0
  EXPECT_TRUE(feed(s, 1s).empty());
}

TEST_F(TrayMonitor, StopAskedForThroughTheTrayIsNotASurprise) {
  feed(healthy(), 0s);
  monitor.expect_llm_stop(t0 + 1s);
  auto s = healthy();
  s.llm = {State::stopped, 0, 1067};  // even when it did not stop cleanly
  EXPECT_TRUE(feed(s, 2s).empty());
  // Long after, a new stop is unexpected again.
  feed(healthy(), 500s);
  EXPECT_EQ(feed(s, 501s).size(), 1u);
}

TEST_F(TrayMonitor, JobFinishedAndJobFailed) {
  auto s = healthy();
  s.trainer_values = trainer_values("working");
  s.trainer_values->job = "demo";
  feed(s, 0s);
  auto done = healthy();
  done.trainer_values->jobs_done = 1;
  auto out = feed(done, 1s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, Notification::Kind::job_finished);
  EXPECT_EQ(out[0].text, "Job demo finished.");
  EXPECT_FALSE(out[0].warning);
  EXPECT_FALSE(last.recent_job_failure);
  EXPECT_FALSE(monitor.next_change(t0 + 1s));  // nothing changes with time alone

  auto failed = done;
  failed.trainer_values->jobs_failed = 1;
  failed.trainer_values->last_error = "job bad: dataset line 3: field 'text' is missing";
  out = feed(failed, 2s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, Notification::Kind::job_failed);
  EXPECT_EQ(out[0].text, "job bad: dataset line 3: field 'text' is missing");
  EXPECT_TRUE(last.recent_job_failure);
  EXPECT_EQ(colour(last), Colour::amber);
  // Still amber a while later, green once the failure is old: the one time the tray must look
  // again with no event, which the monitor names.
  EXPECT_EQ(monitor.next_change(t0 + 2s), t0 + 602s);
  feed(failed, 300s);
  EXPECT_EQ(colour(last), Colour::amber);
  EXPECT_EQ(monitor.next_change(t0 + 300s), t0 + 602s);
  feed(failed, 700s);
  EXPECT_FALSE(monitor.next_change(t0 + 700s));
  EXPECT_FALSE(last.recent_job_failure);
  EXPECT_EQ(colour(last), Colour::green);
}

TEST_F(TrayMonitor, CountersOfANewTrainerProcessAreNotTransitions) {
  auto s = healthy();
  s.trainer_values->jobs_done = 5;
  feed(s, 0s);
  auto restarted = healthy();
  restarted.trainer.pid = restarted.trainer_values->pid = kTrainerPid + 1;
  restarted.trainer_values->jobs_failed = 9;
  EXPECT_TRUE(feed(restarted, 1s).empty());
  EXPECT_FALSE(last.recent_job_failure);
}

TEST_F(TrayMonitor, RateLimited) {
  auto s = healthy();
  feed(s, 0s);
  std::size_t shown = 0;
  for (int i = 1; i <= 10; ++i) {
    s.trainer_values->jobs_done = static_cast<std::uint32_t>(i);
    shown += feed(s, std::chrono::seconds(i)).size();
  }
  EXPECT_EQ(shown, 3u);
  EXPECT_EQ(monitor.suppressed(), 7u);
  // Once the window has passed, the next one is shown and says how many were not.
  s.trainer_values->jobs_done = 11;
  auto out = feed(s, 100s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].text.find("(7 earlier notices not shown)"), std::string::npos) << out[0].text;
}

TEST_F(TrayMonitor, BalloonTextFitsItsBuffer) {
  auto s = healthy();
  feed(s, 0s);
  s.trainer_values->jobs_failed = 1;
  s.trainer_values->last_error = std::string(1000, 'x');
  auto out = feed(s, 1s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_LE(utf16_length(out[0].text), kMaxBalloonText);
  EXPECT_LE(utf16_length(out[0].title), kMaxBalloonTitle);
}

TEST(TrayStatusText, ListsBothServicesPortModelJobAndLastError) {
  auto s = healthy();
  s.trainer_values = trainer_values("working");
  s.trainer_values->job = "demo";
  s.trainer_values->items_done = 3;
  s.trainer_values->items_total = 12;
  s.trainer_values->jobs_failed = 1;
  s.trainer_values->last_error = "job old: dataset line 2: field 'text' is missing";
  const auto t = status_text(s);
  EXPECT_EQ(t.title,
            "Tandem status \xE2\x80\x94 LLM ready on 127.0.0.1:8031 \xC2\xB7 training demo 25%");
  EXPECT_EQ(t.llm, "LLM server (TandemLlm): running, pid 348");
  EXPECT_EQ(t.endpoint, "Endpoint: http://127.0.0.1:8031 (port 8031), verified");
  EXPECT_EQ(t.model, "Model: tandem-tiny");
  EXPECT_EQ(t.trainer, "Trainer (TandemTrainer): running, pid 512, working");
  EXPECT_EQ(t.job, "Job: demo (3 of 12 items)");
  EXPECT_EQ(t.counters, "Jobs: 0 done, 1 failed");
  EXPECT_EQ(t.last_error, "Last error: job old: dataset line 2: field 'text' is missing");
}

TEST(TrayStatusText, NamesTheModelsLoadedBesideTheDefault) {
  auto s = healthy();
  s.publication->loaded_models = {"tandem-tiny", "qwen2.5-7b", "phi-3"};
  EXPECT_EQ(status_text(s).model, "Model: tandem-tiny (also loaded: qwen2.5-7b, phi-3)");
}

TEST(TrayStatusText, ShowsTheCpuVariantAndTheDevices) {
  auto s = healthy();
  EXPECT_EQ(status_text(s).compute, "Compute: -");
  s.publication->cpu_variant = "haswell";
  s.publication->devices = {{"CPU", "Intel Core i7", "cpu", 1, 2},
                            {"Vulkan0", "RX 7600", "gpu", 3, 4}};
  EXPECT_EQ(status_text(s).compute,
            "Compute: CPU variant haswell; devices: CPU (Intel Core i7), Vulkan0 (RX 7600)");
}

TEST(TrayStatusText, UnverifiedEndpointSaysWhy) {
  auto s = healthy();
  s.verified = false;
  s.problem = "pipe \\\\.\\pipe\\tandem-llm is served by pid 9, not TandemLlm's pid 348";
  const auto t = status_text(s);
  EXPECT_EQ(t.endpoint.rfind("Endpoint: ready, not verified: pipe", 0), 0u) << t.endpoint;
  EXPECT_NE(t.title.find("does not verify"), std::string::npos);
}

TEST(TrayStatusText, StoppedServiceShowsItsExitCode) {
  auto s = healthy();
  s.llm = {State::stopped, 0, 2};
  EXPECT_EQ(status_text(s).llm, "LLM server (TandemLlm): stopped (exit code 2)");
}

TEST(TrayStatusText, NothingInstalled) {
  const auto t = status_text(nothing_installed());
  EXPECT_EQ(t.llm, "LLM server (TandemLlm): not installed");
  EXPECT_EQ(t.endpoint, "Endpoint: none published");
  EXPECT_EQ(t.trainer, "Trainer (TandemTrainer): not installed");
  EXPECT_EQ(t.job, "Job: -");
}

}  // namespace
}  // namespace tandem::tray
