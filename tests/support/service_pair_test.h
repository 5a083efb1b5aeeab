// The fixture the Windows service suites share (trainer_e2e_test, fault_e2e_test): both services
// registered for each test and removed after it, started, killed as a crash would end them and
// started again as SCM recovery would, and distill jobs given and checked for exactly-once. The
// including test defines TANDEM_LLM_EXE and TANDEM_TRAINER_EXE.
#pragma once

#include <windows.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "common/paths.h"
#include "common/win32/handle.h"
#include "common/win32/scm.h"
#include "tests/support/job_outcome.h"
#include "tests/support/loopback_socket.h"
#include "tests/support/service_e2e.h"

namespace tandem::testing {

class ServicePairTest : public ::testing::Test {
 protected:
  static constexpr const char* kLlm = "TandemLlm";
  static constexpr const char* kTrainer = "TandemTrainer";

  void SetUp() override {
    port_ = find_free_ports(8);
    set_up_test_pair(port_, TANDEM_LLM_EXE, TANDEM_TRAINER_EXE);
  }

  void TearDown() override { tear_down_test_pair(HasFailure()); }

  static win32::Service service(const char* name) {
    static auto scm = win32::ScManager::open(SC_MANAGER_ALL_ACCESS);
    return win32::Service::open(scm, name);
  }

  static void start(const char* name) {
    service(name).start();
    service(name).wait_for_state(ServiceRunState::running, std::chrono::seconds(60));
  }

  static void kill_process(DWORD pid) {
    win32::Handle process(OpenProcess(PROCESS_TERMINATE | SYNCHRONIZE, FALSE, pid));
    ASSERT_TRUE(process) << "OpenProcess(" << pid << ")";
    ASSERT_TRUE(TerminateProcess(process.get(), 9));
    ASSERT_EQ(WaitForSingleObject(process.get(), 30000), WAIT_OBJECT_0);
  }

  // TerminateProcess on the service's process, as a crash would end it, then a start, as SCM
  // recovery would do. Wine 8's SCM keeps reporting the dead process as RUNNING (Windows' sees it
  // end) but starts the service again; so the new run is told apart by its PID.
  static void kill_and_restart(
      const char* name, const std::function<void()>& while_down = [] {}) {
    const auto before = service(name).query();
    ASSERT_EQ(before.state, ServiceRunState::running) << name;
    kill_process(before.pid);
    while_down();
    service(name).start();
    service(name).wait_until(
        [&](const win32::ServiceStatusInfo& s) {
          return s.state == ServiceRunState::running && s.pid != before.pid;
        },
        std::chrono::seconds(60), "to run again after the kill");
  }

  // A JSONL dataset of `count` items with ids "t-<i>", in the data folder.
  static std::filesystem::path dataset(const std::string& name, int count) {
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

  // Drops a job in the inbox of `jobs` (default: the trainer's spool) the way a person would:
  // written elsewhere, then moved in.
  static void submit(const std::string& file_name, const std::string& content,
                     const std::filesystem::path& jobs = paths::jobs_dir()) {
    auto staging = paths::data_dir() / "staging";
    std::filesystem::create_directories(staging);
    std::filesystem::create_directories(jobs / "inbox");
    write_file_atomically(staging / file_name, content);
    std::filesystem::rename(staging / file_name, jobs / "inbox" / file_name);
  }

  static void submit_distill(const std::string& name, const std::filesystem::path& data,
                             const std::filesystem::path& jobs = paths::jobs_dir()) {
    submit(name + ".json",
           nlohmann::json{{"kind", "distill"},
                          {"dataset", windows_path(data.string())},
                          {"labels", {"yes", "no"}},
                          {"epochs", 3}}
               .dump(),
           jobs);
  }

  static std::filesystem::path done_work(const std::string& name,
                                         const std::filesystem::path& jobs = paths::jobs_dir()) {
    return testing::done_work(jobs, name);
  }

  static void expect_each_labelled_once(const std::string& name, int count,
                                        const std::filesystem::path& jobs = paths::jobs_dir()) {
    testing::expect_each_labelled_once(jobs, name, count);
  }

  // The port of the TandemLlm the SCM runs now, once it has published it.
  static std::uint16_t published_port() {
    return wait_llm_published(service(kLlm).query().pid, std::chrono::seconds(60));
  }

  std::uint16_t port_ = 0;
};

}  // namespace tandem::testing
