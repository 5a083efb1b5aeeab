// Issue #7's fault injection against both services under the (Wine) SCM: the server killed at
// seeded-random points of a distill job and brought back (sometimes on another port), the
// trainer killed at random points, the server stopped and started in a tight loop under a client
// that resolves and requests all the while, and the resolver's view of a dead server.
//
// Wine's SCM keeps a killed service RUNNING and applies no recovery actions, so the tests do what
// recovery would: wait on the process handle, then start the service. Every wait is on a registry
// change notification, an SCM state change, a process handle or a condition variable, bounded.
//
// The seed is printed; TANDEM_FAULT_SEED=<n> repeats a run.
#include <windows.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "common/files.h"
#include "common/http_client.h"
#include "common/paths.h"
#include "common/win32/error.h"
#include "common/win32/llm_resolver.h"
#include "common/win32/registry_publication.h"
#include "common/win32/scm.h"
#include "tests/support/loopback_socket.h"
#include "tests/support/raw_http_client.h"
#include "tests/support/scratch_volume.h"
#include "tests/support/service_e2e.h"
#include "tests/support/service_pair_test.h"
#include "tests/support/temp_dir.h"
#include "trainer/checkpoint/checkpoint.h"

namespace tandem {
namespace {

using namespace std::chrono_literals;
using testing::Family;
using Clock = std::chrono::steady_clock;
using testing::jsonl;
using testing::TrainerValues;
using testing::wait_llm_published;
using testing::wait_trainer;
using testing::windows_path;

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::uint32_t seed() {
  static const std::uint32_t value = [] {
    const std::string given = env("TANDEM_FAULT_SEED");
    return given.empty() ? 20261127u : static_cast<std::uint32_t>(std::stoul(given));
  }();
  return value;
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// `count` distinct item counts in [low, high], ascending: where the faults strike.
std::vector<std::uint32_t> fault_points(std::mt19937& rng, int count, std::uint32_t low,
                                        std::uint32_t high) {
  std::uniform_int_distribution<std::uint32_t> pick(low, high);
  std::set<std::uint32_t> points;
  while (points.size() < static_cast<std::size_t>(count)) points.insert(pick(rng));
  return {points.begin(), points.end()};
}

double percentile(std::vector<double> samples, double p) {
  std::sort(samples.begin(), samples.end());
  const auto at = static_cast<std::size_t>(p * static_cast<double>(samples.size() - 1));
  return samples[at];
}

class FaultTest : public testing::ServicePairTest {
 protected:
  void SetUp() override {
    ServicePairTest::SetUp();
    std::printf("[fault] seed %u (TANDEM_FAULT_SEED repeats it)\n", seed());
  }

  static std::string published_instance() {
    published_port();
    return win32::read_publication(win32::kLlmServerKey)->instance_id;
  }

  // The server's count of answered completions since it started.
  static long completions_answered() {
    testing::RawHttpConnection http("127.0.0.1", published_port());
    auto metrics = http.request("GET", "/metrics").body;
    const std::string series = "tandem_requests_total{route=\"/v1/completions\",status=\"200\"} ";
    auto at = metrics.find(series);
    if (at == std::string::npos) throw Error("no " + series + "in /metrics:\n" + metrics);
    return std::stol(metrics.substr(at + series.size()));
  }
};

// The full size: 1,000 items and 20 kills took 145 s under Wine on the shared two-core
// machine (300 items and 6 kills: 60 s; 131 s at a load average of 14), under the ~4 minutes
// that would call for a smaller default run.
TEST_F(FaultTest, AJobSurvivesTheServerKilledAtSeededRandomPoints) {
  constexpr int items = 1000;
  constexpr int kills = 20;
  std::mt19937 rng(seed());
  const auto points = fault_points(rng, kills, 5, static_cast<std::uint32_t>(items - 10));
  start(kLlm);
  start(kTrainer);
  const auto began = Clock::now();
  submit_distill("killed", dataset("killed.jsonl", items));
  std::printf("[fault] both services running, the job submitted\n");
  std::fflush(stdout);

  std::set<std::uint16_t> ports = {published_port()};
  int moved = 0;
  for (std::uint32_t at : points) {
    wait_trainer([at](const TrainerValues& v) { return v.items_done >= at; }, 180s,
                 std::to_string(at) + " items labelled");
    // Where a run that hangs stopped (seen once under Wine, seed 20261127: no line after the
    // seed for 300 s; the rerun passed in 19 s).
    std::printf("[fault] %u items labelled: killing the server\n", at);
    std::fflush(stdout);
    const std::uint16_t old_port = published_port();
    const bool hold = rng() % 2 == 0;  // the old port taken meanwhile: it must move on
    std::vector<testing::Socket> held;
    kill_and_restart(kLlm, [&] {
      if (!hold) return;
      held.push_back(testing::hold_port(Family::v4, old_port));
      held.push_back(testing::hold_port(Family::v6, old_port));
    });
    const std::uint16_t new_port = published_port();
    if (hold) {
      EXPECT_NE(new_port, old_port) << "came back on a port another program held";
      ++moved;
    }
    ports.insert(new_port);
  }

  auto done = wait_trainer([](const TrainerValues& v) { return v.jobs_done == 1; }, 300s,
                           "the job to finish");
  const double took = seconds_since(began);
  std::printf("[fault] %d items, %d server kills (%d moved to another port, %zu ports): %.1f s\n",
              items, kills, moved, ports.size(), took);
  EXPECT_EQ(done.jobs_failed, 0u);
  EXPECT_EQ(done.server_url, "http://127.0.0.1:" + std::to_string(published_port()));
  expect_each_labelled_once("killed", items);
}

TEST_F(FaultTest, AJobSurvivesTheTrainerKilledAtSeededRandomPoints) {
  constexpr int kItems = 240;
  constexpr int kKills = 5;
  std::mt19937 rng(seed() + 1);
  const auto points = fault_points(rng, kKills, 5, kItems - 10);
  start(kLlm);
  start(kTrainer);
  const auto began = Clock::now();
  submit_distill("resumed", dataset("resumed.jsonl", kItems));
  for (std::uint32_t at : points) {
    wait_trainer([at](const TrainerValues& v) { return v.items_done >= at; }, 180s,
                 std::to_string(at) + " items labelled");
    kill_and_restart(kTrainer);
  }
  wait_trainer([](const TrainerValues& v) { return v.jobs_done == 1; }, 300s, "the job to finish");
  std::printf("[fault] %d items, %d trainer kills: %.1f s\n", kItems, kKills, seconds_since(began));
  expect_each_labelled_once("resumed", kItems);

  // Two requests per item (its two labels), plus at most the one item in flight at each kill.
  const long answered = completions_answered();
  EXPECT_GE(answered, 2 * kItems);
  EXPECT_LE(answered, 2 * kItems + 2 * kKills);
}

// What a client (the trainer, tandemctl, the tray) sees while the server stops and starts in a
// tight loop: every answer comes from the instance it resolved, which was running when it asked;
// everything else is a refusal or a clean failure, never an answer from a withdrawn endpoint.
// The client is a thread that ends before the process: it used to corrupt the heap as it ended
// (cpp-httplib's thread_local objects under MinGW, issue #7; see http_client_thread_test.cpp).
TEST_F(FaultTest, AStopStartLoopNeverHandsAClientAStaleEndpoint) {
  constexpr int kCycles = 15;
  start(kLlm);

  std::mutex mutex;
  std::condition_variable changed;
  std::set<std::string> stopped;            // instances the SCM has reported STOPPED
  std::map<std::string, int> answers_from;  // instance → answers the client got from it
  std::vector<std::string> stale;
  std::atomic<long> resolves{0}, answers{0}, refusals{0}, failed_requests{0};
  std::stop_source end;

  auto client = std::async(std::launch::async, [&] {
    win32::LlmResolver resolver;  // kept, as the trainer keeps its own
    HttpClientOptions http;
    http.connect_timeout = 1s;
    http.read_timeout = 10s;
    while (!end.stop_requested()) {
      std::set<std::string> gone_before;
      {
        std::lock_guard lock(mutex);
        gone_before = stopped;
      }
      ++resolves;
      std::string why;
      std::optional<discovery::Endpoint> endpoint;
      try {
        endpoint = resolver.resolve(why);
        if (!endpoint) {
          ++refusals;
          endpoint = resolver.wait_ready(30s, end.get_token());
        }
      } catch (const StopRequested&) {
        break;
      } catch (const Error&) {
        continue;  // not ready within the bound: asked again
      }
      if (gone_before.count(endpoint->instance_id)) {
        std::lock_guard lock(mutex);
        stale.push_back("resolved " + endpoint->instance_id + ", stopped before the resolve");
      }
      try {
        HttpClient connection(endpoint->url, http);
        const auto answer = connection.get("/v1/models");
        ++answers;
        const std::string from = answer.header("x-tandem-instance");
        std::lock_guard lock(mutex);
        if (from != endpoint->instance_id) {
          stale.push_back(endpoint->url + " resolved as " + endpoint->instance_id +
                          " but answered by '" + from + "'");
        } else if (gone_before.count(from)) {
          stale.push_back("answered by " + from + ", stopped before the request");
        }
        ++answers_from[from];
        changed.notify_all();
      } catch (const ConnectionError&) {
        ++failed_requests;  // the endpoint went away under the request: a clean failure
      }
    }
  });

  const auto began = Clock::now();
  std::set<std::uint16_t> ports;
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    const std::string instance = published_instance();
    const std::uint16_t port = published_port();
    ports.insert(port);
    {
      // Each instance serves the client at least once before it goes.
      std::unique_lock lock(mutex);
      ASSERT_TRUE(changed.wait_for(lock, 60s, [&] { return answers_from[instance] > 0; }))
          << "cycle " << cycle << ": the client got no answer from " << instance;
    }
    service(kLlm).stop();
    service(kLlm).wait_for_state(ServiceRunState::stopped, 60s);
    {
      std::lock_guard lock(mutex);
      stopped.insert(instance);
    }
    // Every third start finds its old port taken and moves on.
    std::vector<testing::Socket> held;
    if (cycle % 3 == 1) {
      held.push_back(testing::hold_port(Family::v4, port));
      held.push_back(testing::hold_port(Family::v6, port));
    }
    start(kLlm);
    published_port();
  }
  end.request_stop();
  ASSERT_EQ(client.wait_for(60s), std::future_status::ready) << "the client did not stop";
  client.get();

  std::printf(
      "[fault] %d stop/start cycles in %.1f s on %zu ports: %ld resolves, %ld answers, %ld "
      "refusals, %ld failed requests, %zu stale\n",
      kCycles, seconds_since(began), ports.size(), resolves.load(), answers.load(), refusals.load(),
      failed_requests.load(), stale.size());
  for (const auto& s : stale) ADD_FAILURE() << "stale: " << s;
  EXPECT_GE(answers.load(), kCycles);
  EXPECT_GT(refusals.load(), 0) << "the client never met a stopped server";
  EXPECT_GE(ports.size(), 2u);
}

// Fills `folder`'s volume with one file; returns how many bytes it took.
std::uint64_t fill_volume(const std::filesystem::path& file) {
  win32::FileHandle filler(CreateFileW(file.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS,
                                       FILE_ATTRIBUTE_NORMAL, nullptr));
  if (!filler) throw Error("cannot create " + path_utf8(file));
  std::uint64_t written = 0;
  for (DWORD chunk : {DWORD{64 * 1024}, DWORD{4096}, DWORD{1}}) {
    const std::string bytes(chunk, 'x');
    DWORD n = 0;
    while (WriteFile(filler.get(), bytes.data(), chunk, &n, nullptr) && n == chunk) written += n;
    written += n;
  }
  FlushFileBuffers(filler.get());
  return written;
}

// A job on a volume that runs full, then turns read-only, then is healthy again: each time the
// trainer says which file and why, keeps its checkpoint whole, and the job finishes with every
// item labelled once. A real tmpfs (tests/support/scratch_volume.h): under Wine as root neither a
// read-only attribute nor a DACL stops a write.
TEST_F(FaultTest, AFullOrReadOnlyJobsFolderIsReportedAndTheJobFinishesAfterwards) {
  constexpr int kItems = 150;
  testing::ScratchVolume volume(TANDEM_FAULT_DISK_UNIX, TANDEM_FAULT_DISK);
  if (auto failed = volume.mount(2048)) GTEST_SKIP() << "no tmpfs for the test: " << *failed;
  const auto jobs = volume.path() / "jobs";
  testing::write_trainer_test_config({{"jobs_dir", windows_path(jobs.string())}});
  start(kLlm);
  start(kTrainer);
  submit_distill("disk", dataset("disk.jsonl", kItems), jobs);

  // The checkpoint as it is on the volume now, loaded from a copy (opening it in place would
  // tidy files under the trainer's feet).
  auto checkpoint_count = [&](const std::string& job) {
    testing::TempDir copy;
    for (const char* name :
         {trainer::Checkpoint::kSnapshotName, trainer::Checkpoint::kJournalName}) {
      const auto from = jobs / "active" / (job + ".work") / name;
      if (std::filesystem::exists(from)) std::filesystem::copy_file(from, copy.path() / name);
    }
    trainer::Checkpoint checkpoint(spool::real_file_system(), copy.path(), job);
    const auto ids = checkpoint.done_ids();
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
    return checkpoint.done_count();
  };
  std::string said;  // the trainer's last complaint: each fault must bring its own
  auto refused = [&](const std::string& what) {
    auto values = wait_trainer(
        [&](const TrainerValues& v) {
          return v.state == "waiting" && v.last_error != said &&
                 v.last_error.find("fault-disk") != std::string::npos;
        },
        120s, "the trainer to report the " + what + " volume");
    std::printf("[fault] %s: %s\n", what.c_str(), values.last_error.c_str());
    EXPECT_EQ(values.jobs_failed, 0u) << values.last_error;
    const std::size_t recorded = checkpoint_count(values.job);
    EXPECT_GE(recorded, 1u);
    EXPECT_LE(recorded, static_cast<std::size_t>(kItems));
    said = values.last_error;
    return values;
  };

  wait_trainer([](const TrainerValues& v) { return v.items_done >= 20; }, 120s, "20 items");
  const auto filler = volume.path() / "filler.bin";
  std::printf("[fault] filled the volume with %llu bytes\n",
              static_cast<unsigned long long>(fill_volume(filler)));
  auto full = refused("full");
  EXPECT_NE(full.last_error.find("No space left"), std::string::npos) << full.last_error;
  std::filesystem::remove(filler);

  wait_trainer([](const TrainerValues& v) { return v.state == "working" && v.items_done >= 90; },
               120s, "90 items after the disk had room again");
  volume.set_read_only(true);
  refused("read-only");
  volume.set_read_only(false);

  auto done = wait_trainer([](const TrainerValues& v) { return v.jobs_done == 1; }, 180s,
                           "the job to finish");
  EXPECT_EQ(done.jobs_failed, 0u);
  expect_each_labelled_once("disk", kItems, jobs);
  service(kTrainer).stop();
  service(kTrainer).wait_for_state(ServiceRunState::stopped, 30s);
}

// Wine's SCM keeps a killed service RUNNING with its dead PID: the resolver must look at the
// process itself, say so, and wait for the restarted one.
TEST_F(FaultTest, TheResolverSaysAKilledServerHasEndedAndWaitsForTheNextOne) {
  start(kLlm);
  published_port();
  win32::LlmResolver resolver;
  std::string why;
  ASSERT_TRUE(resolver.resolve(why)) << why;
  const DWORD pid = service(kLlm).query().pid;

  kill_process(pid);
  ASSERT_FALSE(resolver.resolve(why));
  EXPECT_NE(why.find("server process " + std::to_string(pid) + " has ended"), std::string::npos)
      << why;
  ASSERT_FALSE(win32::LlmResolver().resolve(why));
  EXPECT_NE(why.find("server process " + std::to_string(pid) + " has ended"), std::string::npos)
      << why;

  std::stop_source stop;
  auto waited =
      std::async(std::launch::async, [&] { return resolver.wait_ready(60s, stop.get_token()); });
  EXPECT_EQ(waited.wait_for(200ms), std::future_status::timeout) << "resolved a dead server";
  service(kLlm).start();
  ASSERT_EQ(waited.wait_for(90s), std::future_status::ready);
  const auto endpoint = waited.get();
  EXPECT_NE(endpoint.pid, pid);
  EXPECT_EQ(endpoint.pid, service(kLlm).query().pid);
}

// Resolving with one kept resolver (the trainer's way) against a fresh one per call (tandemctl's
// way, and what every resolve cost before the SCM and service handles were kept open).
TEST_F(FaultTest, AKeptResolverIsCheaperThanAFreshOne) {
  constexpr int kRounds = 200;
  start(kLlm);
  published_port();
  std::string why;
  win32::LlmResolver kept;
  ASSERT_TRUE(kept.resolve(why)) << why;
  std::vector<double> fresh_ms, kept_ms;
  for (int i = 0; i < kRounds; ++i) {
    auto t = Clock::now();
    ASSERT_TRUE(win32::LlmResolver().resolve(why)) << why;
    fresh_ms.push_back(seconds_since(t) * 1000);
    t = Clock::now();
    ASSERT_TRUE(kept.resolve(why)) << why;
    kept_ms.push_back(seconds_since(t) * 1000);
  }
  std::printf("[fault] resolve p50/p99: fresh resolver %.2f/%.2f ms, kept resolver %.2f/%.2f ms\n",
              percentile(fresh_ms, 0.5), percentile(fresh_ms, 0.99), percentile(kept_ms, 0.5),
              percentile(kept_ms, 0.99));
  EXPECT_LT(percentile(kept_ms, 0.5), percentile(fresh_ms, 0.5));
}

}  // namespace
}  // namespace tandem
