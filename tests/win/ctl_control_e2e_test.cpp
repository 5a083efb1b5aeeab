// tandemctl's start/stop/restart, submit/jobs and logs, run as the real tandemctl.exe against
// TandemLlm and TandemTrainer registered with the (Wine) SCM. Set-up as in trainer_e2e_test.
#include <windows.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"
#include "common/files.h"
#include "common/paths.h"
#include "common/win32/registry.h"
#include "common/win32/registry_publication.h"
#include "common/win32/scm.h"
#include "tests/support/loopback_socket.h"
#include "tests/support/service_e2e.h"
#include "tests/support/win_process.h"

namespace tandem {
namespace {

using namespace std::chrono_literals;

constexpr const char* kLlm = "TandemLlm";
constexpr const char* kTrainer = "TandemTrainer";

using testing::windows_path;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

std::string trimmed(const std::string& text) {
  auto lines = lines_of(text);
  return lines.empty() ? "" : lines.front();
}

testing::ProcessResult ctl(const std::string& arguments) {
  return testing::run_process("\"" + windows_path(TANDEM_CTL_EXE) + "\" " + arguments, 300s);
}

class CtlControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = testing::find_free_ports(8);
    testing::set_up_test_pair(port_, TANDEM_LLM_EXE, TANDEM_TRAINER_EXE);
    std::error_code ignored;
    std::filesystem::remove_all(work_, ignored);
    std::filesystem::create_directories(work_);
  }

  void TearDown() override {
    testing::tear_down_test_pair(HasFailure());
    std::error_code ignored;
    std::filesystem::remove_all(work_, ignored);
  }

  static win32::ServiceStatusInfo query(const char* name) {
    return win32::Service::open(win32::ScManager::open(), name, SERVICE_QUERY_STATUS).query();
  }

  // A job folder the way a person keeps one: the job file and its dataset side by side.
  std::filesystem::path job_file(const std::string& name, const nlohmann::json& job) {
    std::string items;
    for (int i = 0; i < 10; ++i) {
      items += nlohmann::json{{"id", "c-" + std::to_string(i)},
                              {"text", "item number " + std::to_string(i)}}
                   .dump() +
               "\n";
    }
    write_file_atomically(work_ / "items.jsonl", items);
    write_file_atomically(work_ / (name + ".json"), job.dump(2));
    return work_ / (name + ".json");
  }

  std::uint16_t port_ = 0;
  std::filesystem::path work_ = paths::data_dir() / "ctl-e2e";
};

TEST_F(CtlControlTest, StartStopAndRestartFollowTheDependency) {
  auto r = ctl("start trainer");
  ASSERT_EQ(r.exit_code, 0u) << r.output << r.errors;
  EXPECT_EQ(query(kLlm).state, ServiceRunState::running);
  EXPECT_EQ(query(kTrainer).state, ServiceRunState::running);
  const auto started = lines_of(r.output);
  ASSERT_EQ(started.size(), 2u) << r.output;
  EXPECT_EQ(started[0].rfind("TandemLlm      running (pid ", 0), 0u) << r.output;
  EXPECT_EQ(started[1].rfind("TandemTrainer  running (pid ", 0), 0u) << r.output;

  r = ctl("start");
  EXPECT_EQ(r.exit_code, 0u) << r.errors;
  EXPECT_EQ(lines_of(r.output).size(), 2u) << r.output;
  EXPECT_NE(r.output.find("(already)"), std::string::npos) << r.output;

  // The server cannot stop under the trainer: the trainer goes first.
  r = ctl("stop llm");
  EXPECT_EQ(r.exit_code, 0u) << r.output << r.errors;
  EXPECT_EQ(query(kLlm).state, ServiceRunState::stopped);
  EXPECT_EQ(query(kTrainer).state, ServiceRunState::stopped);
  const auto stopped = lines_of(r.output);
  ASSERT_EQ(stopped.size(), 2u) << r.output;
  EXPECT_EQ(stopped[0], "TandemTrainer  stopped");
  EXPECT_EQ(stopped[1], "TandemLlm      stopped");

  r = ctl("stop llm");
  EXPECT_EQ(r.exit_code, 0u) << r.errors;
  EXPECT_EQ(trimmed(r.output), "TandemLlm      stopped  (already)");

  r = ctl("start all --timeout 120");
  ASSERT_EQ(r.exit_code, 0u) << r.output << r.errors;
  const DWORD llm_pid = query(kLlm).pid;
  const DWORD trainer_pid = query(kTrainer).pid;

  r = ctl("restart all");
  ASSERT_EQ(r.exit_code, 0u) << r.output << r.errors;
  EXPECT_EQ(lines_of(r.output).size(), 4u) << r.output;  // two stops, two starts
  EXPECT_EQ(query(kLlm).state, ServiceRunState::running);
  EXPECT_EQ(query(kTrainer).state, ServiceRunState::running);
  EXPECT_NE(query(kLlm).pid, llm_pid);
  EXPECT_NE(query(kTrainer).pid, trainer_pid);

  // Restarting the server brings back the trainer it had to stop.
  const DWORD llm_pid2 = query(kLlm).pid;
  r = ctl("restart llm");
  ASSERT_EQ(r.exit_code, 0u) << r.output << r.errors;
  EXPECT_EQ(query(kLlm).state, ServiceRunState::running);
  EXPECT_EQ(query(kTrainer).state, ServiceRunState::running);
  EXPECT_NE(query(kLlm).pid, llm_pid2);

  r = ctl("stop");
  EXPECT_EQ(r.exit_code, 0u) << r.errors;
  EXPECT_EQ(query(kLlm).state, ServiceRunState::stopped);
  EXPECT_EQ(query(kTrainer).state, ServiceRunState::stopped);
}

TEST_F(CtlControlTest, ASubmittedJobWithARelativeDatasetRunsAndIsListedDone) {
  ASSERT_EQ(ctl("start").exit_code, 0u);
  // "items.jsonl" is beside the job file, not in the inbox: submit makes the path absolute.
  auto job = job_file(
      "ctljob",
      {{"kind", "distill"}, {"dataset", "items.jsonl"}, {"labels", {"yes", "no"}}, {"epochs", 2}});
  auto r = ctl("submit \"" + windows_path(job.string()) + "\"");
  ASSERT_EQ(r.exit_code, 0u) << r.output << r.errors;
  EXPECT_EQ(trimmed(r.output),
            windows_path((paths::jobs_dir() / "inbox" / "ctljob.json").string()));
  EXPECT_NE(r.errors.find("tandemctl jobs --wait ctljob"), std::string::npos) << r.errors;

  r = ctl("jobs --wait ctljob --timeout 120");
  ASSERT_EQ(r.exit_code, 0u) << r.output << r.errors;
  const std::filesystem::path work = trimmed(r.output);
  EXPECT_EQ(work.parent_path(), paths::jobs_dir() / "done") << r.output;
  EXPECT_TRUE(std::filesystem::exists(work / "student.json")) << r.output;
  EXPECT_TRUE(std::filesystem::exists(work / "labels.jsonl")) << r.output;

  r = ctl("jobs --json");
  ASSERT_EQ(r.exit_code, 0u) << r.errors;
  auto listed = nlohmann::json::parse(r.output);
  ASSERT_EQ(listed.size(), 1u) << r.output;
  EXPECT_EQ(listed[0]["name"], "ctljob");
  EXPECT_EQ(listed[0]["state"], "done");
  EXPECT_EQ(listed[0]["work_dir"], windows_path(work.string()));

  r = ctl("jobs");
  EXPECT_EQ(r.exit_code, 0u) << r.errors;
  EXPECT_EQ(trimmed(r.output).rfind("done     ctljob-", 0), 0u) << r.output;

  // A job that fails while it runs: --wait says why and exits 1.
  auto lines = work_ / "lines.jsonl";
  write_file_atomically(lines, "{\"text\":\"fine\"}\n{\"text\":7}\n");
  auto failing = job_file(
      "failing", {{"kind", "distill"}, {"dataset", "lines.jsonl"}, {"labels", {"yes", "no"}}});
  ASSERT_EQ(ctl("submit \"" + windows_path(failing.string()) + "\"").exit_code, 0u);
  r = ctl("jobs --wait failing --timeout 120");
  EXPECT_EQ(r.exit_code, 1u) << r.output << r.errors;
  EXPECT_NE(r.errors.find("lines.jsonl:2"), std::string::npos) << r.errors;

  // Nothing named so: it runs out, and says so.
  r = ctl("jobs --wait nosuchjob --timeout 1");
  EXPECT_EQ(r.exit_code, 1u);
  EXPECT_NE(r.errors.find("no job named 'nosuchjob'"), std::string::npos) << r.errors;

  r = ctl("logs trainer --lines 5");
  EXPECT_EQ(r.exit_code, 0u) << r.errors;
  const auto tail = lines_of(r.output);
  EXPECT_GE(tail.size(), 1u);
  EXPECT_LE(tail.size(), 5u) << r.output;
  r = ctl("logs --lines 2");  // llm by default
  EXPECT_EQ(r.exit_code, 0u) << r.errors;
  EXPECT_EQ(lines_of(r.output).size(), 2u) << r.output;
  auto whole = read_file(paths::logs_dir() / "tandem-llm.log");
  EXPECT_NE(whole.find(lines_of(r.output).back()), std::string::npos);
}

TEST_F(CtlControlTest, ANonAsciiJobsFolderIsTheSameForTheTrainerAndTandemctl) {
  // trainer.json is UTF-8; "jöbs-日本" needs more than any ANSI code page, so a path made from a
  // plain std::string would name another folder. Submitted by tandemctl, run by the trainer,
  // waited for by tandemctl: all three must find the same folder.
  const auto jobs = paths::data_dir() / path_from_utf8(
                                            "j\xC3\xB6"
                                            "bs-\xE6\x97\xA5\xE6\x9C\xAC");
  std::error_code ignored;
  std::filesystem::remove_all(jobs, ignored);
  testing::write_trainer_test_config({{"jobs_dir", path_utf8(jobs)}});
  ASSERT_EQ(ctl("start").exit_code, 0u);
  auto job = job_file(
      "utfjob",
      {{"kind", "distill"}, {"dataset", "items.jsonl"}, {"labels", {"yes", "no"}}, {"epochs", 2}});
  auto r = ctl("submit \"" + windows_path(job.string()) + "\"");
  ASSERT_EQ(r.exit_code, 0u) << r.output << r.errors;
  EXPECT_EQ(trimmed(r.output), path_utf8(jobs / "inbox" / "utfjob.json"));

  r = ctl("jobs --wait utfjob --timeout 120");
  ASSERT_EQ(r.exit_code, 0u) << r.output << r.errors;
  const auto work = path_from_utf8(trimmed(r.output));
  EXPECT_EQ(work.parent_path(), jobs / "done") << r.output;
  EXPECT_TRUE(std::filesystem::exists(work / "student.json")) << r.output;
  EXPECT_FALSE(std::filesystem::exists(paths::jobs_dir() / "done"));
  ASSERT_EQ(ctl("stop").exit_code, 0u);
  std::filesystem::remove_all(jobs, ignored);
}

TEST_F(CtlControlTest, AnInvalidJobIsRefusedBeforeItReachesTheInbox) {
  write_file_atomically(work_ / "items.jsonl", "{\"text\":\"a\"}\n");
  write_file_atomically(work_ / "bad.json",
                        "{\"kind\": \"distill\",\n \"dataset\": \"items.jsonl\",\n"
                        " \"labels\": [\"yes\"]}\n");
  auto r = ctl("submit \"" + windows_path((work_ / "bad.json").string()) + "\"");
  EXPECT_EQ(r.exit_code, 2u) << r.output << r.errors;
  EXPECT_NE(r.errors.find("bad.json:3"), std::string::npos) << r.errors;
  EXPECT_NE(r.errors.find("field 'labels'"), std::string::npos) << r.errors;
  EXPECT_EQ(r.output, "");
  const auto inbox = paths::jobs_dir() / "inbox";
  EXPECT_TRUE(!std::filesystem::exists(inbox) || std::filesystem::is_empty(inbox));
}

TEST_F(CtlControlTest, BadArgumentsNameTheWordAndChangeNothing) {
  const std::pair<const char*, const char*> cases[] = {
      {"start nosuch", "'nosuch'"},
      {"stop nosuch", "'nosuch'"},
      {"restart nosuch", "'nosuch'"},
      {"start --timeout abc", "'abc'"},
      {"stop trainer --timeout abc", "'abc'"},
      {"restart --timeout -1", "'-1'"},
      {"start llm trainer", "'trainer'"},
      {"submit", "JOB.json"},
      {"submit missing-job.json", "'missing-job.json'"},
      {"submit job.json --name", "--name"},
      {"jobs --wait x --timeout abc", "'abc'"},
      {"jobs --timeout 5", "--timeout"},
      {"jobs --all", "'--all'"},
      {"logs nosuch", "'nosuch'"},
      {"logs --lines abc", "'abc'"},
  };
  for (const auto& [arguments, word] : cases) {
    auto r = ctl(arguments);
    EXPECT_EQ(r.exit_code, 2u) << arguments << ": " << r.errors;
    const auto lines = lines_of(r.errors);
    ASSERT_EQ(lines.size(), 2u) << arguments << ": " << r.errors;  // the reason, the usage
    EXPECT_NE(lines[0].find(word), std::string::npos) << arguments << ": " << r.errors;
    EXPECT_EQ(lines[1].rfind("usage: tandemctl ", 0), 0u) << arguments << ": " << r.errors;
  }
  EXPECT_EQ(query(kLlm).state, ServiceRunState::stopped);
  EXPECT_EQ(query(kTrainer).state, ServiceRunState::stopped);
}

TEST_F(CtlControlTest, StartingWhatIsNotInstalledSaysHowToInstallIt) {
  {
    auto scm = win32::ScManager::open(SC_MANAGER_ALL_ACCESS);
    win32::Service::open(scm, kTrainer).remove();
  }
  auto r = ctl("start");
  EXPECT_EQ(r.exit_code, 3u) << r.output << r.errors;
  EXPECT_EQ(trimmed(r.errors),
            "tandemctl: TandemTrainer is not installed: run `tandemctl install` or the MSI");
  EXPECT_EQ(query(kLlm).state, ServiceRunState::stopped);  // nothing started half way
  r = ctl("stop trainer");
  EXPECT_EQ(r.exit_code, 3u) << r.output << r.errors;
}

}  // namespace
}  // namespace tandem
