// win32::JobObjectLauncher under Wine, running tandem-child-helper.exe (next to this exe): lines
// as they come, exit codes, environment, working folder, arguments, and stops that end the
// program's whole process tree.
#include "common/win32/child_process.h"

#include <windows.h>

#include <gtest/gtest.h>

#include <shellapi.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "common/error.h"
#include "common/files.h"
#include "common/process/command_line.h"
#include "common/win32/error.h"
#include "common/win32/event.h"
#include "common/win32/handle.h"
#include "common/win32/job_object.h"
#include "common/win32/process.h"
#include "common/win32/strings.h"
#include "common/win32/thread.h"
#include "tests/support/temp_dir.h"
#include "tests/support/win_process.h"

namespace tandem::win32 {
namespace {

using namespace std::chrono_literals;
using Lines = std::vector<std::string>;

std::string helper_path() {
  std::wstring path(MAX_PATH, L'\0');
  const DWORD n = GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size()));
  if (n == 0 || n == path.size()) throw_last_error("GetModuleFileNameW(test exe)");
  path.resize(n);
  return narrow(path.substr(0, path.find_last_of(L'\\') + 1)) + "tandem-child-helper.exe";
}

std::string unique_name(const std::string& tag) {
  static std::atomic<int> counter{0};
  return "TandemChildTest" + tag + std::to_string(GetCurrentProcessId()) + "_" +
         std::to_string(counter++);
}

// Runs the helper with `args`, collecting its lines; `on_line` sees each line as it arrives.
class ChildProcessTest : public ::testing::Test {
 protected:
  ProcessExit run(std::vector<std::string> args,
                  std::function<void(Stream, const std::string&)> on_line = nullptr,
                  std::stop_token stop = {}) {
    spec_.argv.insert(spec_.argv.begin(), helper_path());
    spec_.argv.insert(spec_.argv.end(), args.begin(), args.end());
    const auto started = std::chrono::steady_clock::now();
    const ProcessExit exit = launcher_.run(
        spec_,
        [&](Stream stream, std::string_view line) {
          (stream == Stream::out ? out_ : err_).emplace_back(line);
          if (on_line) on_line(stream, std::string(line));
        },
        stop);
    elapsed_ = std::chrono::steady_clock::now() - started;
    return exit;
  }

  JobObjectLauncher launcher_;
  ProcessSpec spec_;
  Lines out_, err_;
  std::chrono::steady_clock::duration elapsed_{};
};

Handle open_process(const std::string& pid) {
  Handle process(OpenProcess(SYNCHRONIZE, FALSE, static_cast<DWORD>(std::stoul(pid))));
  if (!process) throw_last_error("OpenProcess(grandchild " + pid + ")");
  return process;
}

TEST_F(ChildProcessTest, LinesArriveInOrderPerStreamWithoutTheirEndings) {
  const ProcessExit exit = run({"--out", "one", "--err", "warn 1", "--out", "two", "--err",
                                "warn 2", "--out", "", "--out-raw", "no newline at the end"});
  EXPECT_EQ(exit.exit_code, 0);
  EXPECT_FALSE(exit.stopped);
  EXPECT_EQ(out_, (Lines{"one", "two", "", "no newline at the end"}));
  EXPECT_EQ(err_, (Lines{"warn 1", "warn 2"}));
}

TEST_F(ChildProcessTest, ALineArrivesWhileTheProgramStillRuns) {
  // The helper waits for the test to see its first line: if lines were held until it exited,
  // it would give up after 30 s with 98.
  const std::string name = unique_name("Line");
  Handle seen(CreateEventW(nullptr, TRUE, FALSE, widen(name).c_str()));
  ASSERT_TRUE(seen);
  const ProcessExit exit = run({"--out", "epoch 1", "--wait-event", name, "--out", "epoch 2"},
                               [&](Stream, const std::string& line) {
                                 if (line == "epoch 1") SetEvent(seen.get());
                               });
  EXPECT_EQ(exit.exit_code, 0) << "98: the first line did not arrive while the program ran";
  EXPECT_EQ(out_, (Lines{"epoch 1", "epoch 2"}));
}

TEST_F(ChildProcessTest, ExitCodesComeBack) {
  EXPECT_EQ(run({"--exit", "7"}).exit_code, 7);
  spec_ = {};
  // An access violation's NTSTATUS, as a crashed program reports it.
  EXPECT_EQ(run({"--exit", "3221225477"}).exit_code, static_cast<int>(0xC0000005u));
}

TEST_F(ChildProcessTest, TheProgramSeesItsEnvironment) {
  ASSERT_TRUE(SetEnvironmentVariableW(L"TANDEM_INHERITED", L"yes"));
  ASSERT_TRUE(SetEnvironmentVariableW(L"TANDEM_CASE_TEST", L"old"));
  spec_.env = {{"TANDEM_LLM_URL", "http://127.0.0.1:8031"},
               {"tandem_case_test", "new"},
               {"TANDEM_UTF8", "d\xC3\xA9j\xC3\xA0"}};
  run({"--env", "TANDEM_LLM_URL", "--env", "TANDEM_INHERITED", "--env", "TANDEM_CASE_TEST",
       "--env-count", "TANDEM_CASE_TEST", "--env", "TANDEM_UTF8", "--env", "TANDEM_UNSET"});
  EXPECT_EQ(out_, (Lines{"TANDEM_LLM_URL=http://127.0.0.1:8031", "TANDEM_INHERITED=yes",
                         "TANDEM_CASE_TEST=new", "TANDEM_CASE_TEST appears 1 times",
                         "TANDEM_UTF8=d\xC3\xA9j\xC3\xA0", "TANDEM_UNSET is not set"}));
  SetEnvironmentVariableW(L"TANDEM_INHERITED", nullptr);
  SetEnvironmentVariableW(L"TANDEM_CASE_TEST", nullptr);
}

TEST_F(ChildProcessTest, ARelativeProgramPathIsTakenFromTheWorkingFolder) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir / "bin");
  std::filesystem::copy_file(widen(helper_path()), dir / "bin" / "helper.exe");
  spec_.argv = {"bin\\helper.exe", "--cwd"};
  spec_.working_dir = path_utf8(dir.path());
  const ProcessExit exit =
      launcher_.run(spec_, [&](Stream, std::string_view line) { out_.emplace_back(line); }, {});
  EXPECT_EQ(exit.exit_code, 0);
  EXPECT_EQ(out_, (Lines{"cwd=" + path_utf8(dir.path())}));
}

TEST_F(ChildProcessTest, ArgumentsArriveAsGiven) {
  const Lines args = {"plain",
                      "two words",
                      "",
                      "quote\"inside",
                      "C:\\My Dir\\",
                      "back\\\\slash",
                      "tab\there",
                      "\xC3\xBC"
                      "mlaut"};
  std::vector<std::string> argv = {"--args"};
  argv.insert(argv.end(), args.begin(), args.end());
  run(argv);
  Lines expected;
  for (const std::string& a : args) expected.push_back("arg=" + a);
  EXPECT_EQ(out_, expected);
}

TEST(WindowsCommandLine, CommandLineToArgvWGivesTheArgumentsBack) {
  const std::vector<std::string> argv = {"C:\\Program Files\\x.exe",
                                         "a b",
                                         "",
                                         "\"",
                                         "\\\"",
                                         "x\\\\\"y",
                                         "end\\",
                                         "sp ace\\\\",
                                         "\\\\server\\share",
                                         "{\"json\": [1, 2]}"};
  const std::wstring line = widen(windows_command_line(argv));
  int count = 0;
  wchar_t** parsed = CommandLineToArgvW(line.c_str(), &count);
  ASSERT_NE(parsed, nullptr);
  std::vector<std::string> back;
  for (int i = 0; i < count; ++i) back.push_back(narrow(parsed[i]));
  LocalFree(parsed);
  EXPECT_EQ(back, argv) << narrow(line);
}

TEST_F(ChildProcessTest, AStopEndsTheProgramAndWhatItStarted) {
  std::stop_source stop;
  Handle grandchild;
  std::chrono::steady_clock::time_point stop_requested;
  const ProcessExit exit = run(
      {"--spawn-grandchild", "--out", "ready", "--block"},
      [&](Stream, const std::string& line) {
        if (line.rfind("grandchild ", 0) == 0) {
          grandchild = open_process(line.substr(11));
        }
        if (line == "ready") {
          stop_requested = std::chrono::steady_clock::now();
          stop.request_stop();
        }
      },
      stop.get_token());
  const auto stop_took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - stop_requested);
  EXPECT_TRUE(exit.stopped);
  EXPECT_EQ(exit.exit_code, JobObjectLauncher::kStoppedExitCode);
  EXPECT_LT(stop_took, 5s) << "the stop was not prompt";
  RecordProperty("stop_ms", static_cast<int>(stop_took.count()));
  ASSERT_TRUE(grandchild) << "the helper did not report its grandchild";
  EXPECT_EQ(WaitForSingleObject(grandchild.get(), 5000), WAIT_OBJECT_0)
      << "the grandchild outlived the stop";
}

TEST_F(ChildProcessTest, WhatTheProgramLeftRunningEndsWithIt) {
  // The grandchild holds stdout open for 60 s: run() must not wait for it.
  Handle grandchild;
  const ProcessExit exit =
      run({"--spawn-grandchild", "--exit", "5"}, [&](Stream, const std::string& line) {
        if (line.rfind("grandchild ", 0) == 0) {
          grandchild = open_process(line.substr(11));
        }
      });
  EXPECT_EQ(exit.exit_code, 5);
  EXPECT_FALSE(exit.stopped);
  EXPECT_LT(elapsed_, 10s);
  ASSERT_TRUE(grandchild);
  EXPECT_EQ(WaitForSingleObject(grandchild.get(), 5000), WAIT_OBJECT_0);
}

TEST_F(ChildProcessTest, APipeHeldOutsideTheJobDelaysTheEndOnlyByTheBound) {
  // This test process takes a copy of the program's stdout: the pipe outlives the job, and the
  // launcher gives up on the rest of the output after its end timeout instead of hanging.
  JobObjectLauncher launcher(1000ms);
  const std::string name = unique_name("Dup");
  Handle duplicated_ok(CreateEventW(nullptr, TRUE, FALSE, widen(name).c_str()));
  ASSERT_TRUE(duplicated_ok);
  Handle copy;
  spec_.argv = {
      helper_path(), "--stdout-handle", "--wait-event", name, "--out", "bye", "--exit", "3"};
  const auto started = std::chrono::steady_clock::now();
  const ProcessExit exit = launcher.run(
      spec_,
      [&](Stream, std::string_view text) {
        const std::string line(text);
        out_.push_back(line);
        if (line.rfind("pid ", 0) != 0) return;
        const std::size_t at = line.find(" stdout ");
        Handle child(OpenProcess(PROCESS_DUP_HANDLE, FALSE,
                                 static_cast<DWORD>(std::stoul(line.substr(4, at - 4)))));
        if (!child) throw_last_error("OpenProcess(helper, PROCESS_DUP_HANDLE)");
        HANDLE mine = nullptr;
        const auto theirs =
            reinterpret_cast<HANDLE>(static_cast<ULONG_PTR>(std::stoull(line.substr(at + 8))));
        if (!DuplicateHandle(child.get(), theirs, GetCurrentProcess(), &mine, 0, FALSE,
                             DUPLICATE_SAME_ACCESS)) {
          throw_last_error("DuplicateHandle(helper stdout)");
        }
        copy.reset(mine);
        SetEvent(duplicated_ok.get());
      },
      {});
  const auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(exit.exit_code, 3);
  EXPECT_GE(elapsed, 1000ms) << "the launcher did not wait for the rest of the output";
  EXPECT_LT(elapsed, 8s);
  ASSERT_EQ(out_.size(), 2u);
  EXPECT_EQ(out_[1], "bye");  // what came before the end is all there
  copy.reset();               // lets an abandoned reader see the end of its pipe
}

TEST_F(ChildProcessTest, AStopBeforeTheStartStartsNothing) {
  std::stop_source stop;
  stop.request_stop();
  spec_.argv = {"tandem-no-such-program.exe"};  // would throw if it were started
  const ProcessExit exit = launcher_.run(
      spec_, [](Stream, std::string_view) {}, stop.get_token());
  EXPECT_TRUE(exit.stopped);
}

TEST_F(ChildProcessTest, AThrowingCallbackEndsTheProgramAndIsRethrown) {
  EXPECT_THROW(run({"--out", "boom", "--block"},
                   [](Stream, const std::string&) { throw std::runtime_error("log full"); }),
               std::runtime_error);
  EXPECT_LT(elapsed_, 10s);
}

TEST_F(ChildProcessTest, OnlyTheStandardHandlesAreInherited) {
  SECURITY_ATTRIBUTES inheritable{sizeof(inheritable), nullptr, TRUE};
  Handle secret(CreateEventW(&inheritable, TRUE, FALSE, nullptr));
  ASSERT_TRUE(secret);
  const std::string value = std::to_string(reinterpret_cast<ULONG_PTR>(secret.get()));
  run({"--check-handle", value});
  EXPECT_EQ(out_, (Lines{"handle " + value + " invalid"}));
  // The check can see it: a plain CreateProcessW that inherits handles passes it on.
  const testing::ProcessResult plain = testing::run_process(
      "\"" + helper_path() + "\" --check-handle " + value, 30s, testing::Inherit::everything);
  EXPECT_EQ(plain.output, "handle " + value + " valid\r\n");
}

TEST_F(ChildProcessTest, AMissingProgramIsNamedInTheError) {
  spec_.argv = {"tandem-no-such-program.exe", "train.py"};
  try {
    launcher_.run(spec_, [](Stream, std::string_view) {}, {});
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("CreateProcessW(tandem-no-such-program.exe train.py)"), std::string::npos)
        << what;
    EXPECT_NE(what.find("(error 2)"), std::string::npos) << what;
  }
}

TEST_F(ChildProcessTest, AMissingWorkingFolderIsNamedInTheError) {
  spec_.argv = {helper_path()};
  spec_.working_dir = "C:\\tandem-no-such-folder";
  try {
    launcher_.run(spec_, [](Stream, std::string_view) {}, {});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("in C:\\tandem-no-such-folder"), std::string::npos)
        << e.what();
  }
}

TEST(EnvironmentBlock, IsSortedIgnoringCaseWithOverridesReplacingByName) {
  ASSERT_TRUE(SetEnvironmentVariableW(L"TANDEM_BLOCK_TEST", L"old"));
  const std::wstring block = environment_block({{"tandem_block_test", "new"}, {"AAA_FIRST", "1"}});
  SetEnvironmentVariableW(L"TANDEM_BLOCK_TEST", nullptr);
  ASSERT_GE(block.size(), 2u);
  EXPECT_EQ(block.substr(block.size() - 2), std::wstring(L"\0\0", 2));
  std::vector<std::wstring> names;
  for (std::size_t at = 0; block[at] != L'\0'; at = block.find(L'\0', at) + 1) {
    const std::wstring entry = block.substr(at, block.find(L'\0', at) - at);
    names.push_back(entry.substr(0, entry.find(L'=', 1)));
    if (_wcsicmp(names.back().c_str(), L"TANDEM_BLOCK_TEST") == 0) {
      EXPECT_EQ(entry, L"tandem_block_test=new");
    }
  }
  EXPECT_EQ(std::count_if(names.begin(), names.end(),
                          [](const std::wstring& n) {
                            return _wcsicmp(n.c_str(), L"TANDEM_BLOCK_TEST") == 0;
                          }),
            1);
  for (std::size_t i = 1; i < names.size(); ++i) {
    EXPECT_EQ(CompareStringOrdinal(names[i - 1].c_str(), -1, names[i].c_str(), -1, TRUE),
              CSTR_LESS_THAN)
        << narrow(names[i - 1]) << " before " << narrow(names[i]);
  }
}

TEST(EnvironmentBlock, RefusesNamesWindowsCannotHold) {
  EXPECT_THROW(environment_block({{"", "x"}}), Error);
  EXPECT_THROW(environment_block({{"A=B", "x"}}), Error);
  EXPECT_THROW(environment_block({{"A", std::string("x\0y", 3)}}), Error);
}

}  // namespace
}  // namespace tandem::win32

// --- Issue 17: every process and job call checks the right its documentation names ---------------

namespace tandem::win32 {
namespace {

// The helper, suspended (it runs nothing): a process this test may end as it likes, and ends
// when the test does.
struct SuspendedHelper {
  SuspendedHelper() {
    std::wstring command_line = widen("\"" + helper_path() + "\" --block");
    STARTUPINFOW startup{};
    startup.cb = sizeof(startup);
    PROCESS_INFORMATION started{};
    if (!CreateProcessW(nullptr, command_line.data(), nullptr, nullptr, FALSE,
                        CREATE_SUSPENDED | CREATE_NO_WINDOW, nullptr, nullptr, &startup,
                        &started)) {
      throw_last_error("CreateProcessW(helper)");
    }
    CloseHandle(started.hThread);
    process = Process::adopt(started.hProcess, "helper " + std::to_string(started.dwProcessId));
  }
  ~SuspendedHelper() { TerminateProcess(process.get(), 1); }
  SuspendedHelper(const SuspendedHelper&) = delete;
  SuspendedHelper& operator=(const SuspendedHelper&) = delete;

  Process process;
};

Process open(const Process& process, DWORD access) {
  DWORD error = ERROR_SUCCESS;
  Process opened = Process::open(GetProcessId(process.get()), access, process.what(), error);
  if (!opened) throw_error("OpenProcess(" + process.what() + ")", error);
  return opened;
}

// `call` is refused before it is made, with a message that starts with `message`.
template <typename Call>
void expect_refused(Call call, const std::string& message) {
  try {
    call();
    ADD_FAILURE() << "not refused: " << message;
  } catch (const AccessRightMissing& e) {
    EXPECT_EQ(e.code(), static_cast<std::uint32_t>(ERROR_ACCESS_DENIED));
    EXPECT_EQ(std::string(e.what()).rfind(message, 0), 0u) << e.what();
  }
}

TEST(ProcessRights, EachCallNeedsTheRightItsDocumentationNames) {
  const SuspendedHelper helper;
  const Process& child = helper.process;
  const std::string& name = child.what();

  const Process synchronize = open(child, SYNCHRONIZE);
  EXPECT_FALSE(synchronize.wait(0));
  expect_refused([&] { synchronize.terminate(1); },
                 "TerminateProcess(" + name +
                     ") needs PROCESS_TERMINATE, which its handle was "
                     "not opened with (it has SYNCHRONIZE)");
  expect_refused([&] { synchronize.exit_code(); },
                 "GetExitCodeProcess(" + name + ") needs PROCESS_QUERY_LIMITED_INFORMATION");

  // PROCESS_QUERY_INFORMATION includes the limited right, as documented.
  const Process query = open(child, PROCESS_QUERY_INFORMATION);
  EXPECT_EQ(query.exit_code(), static_cast<DWORD>(STILL_ACTIVE));
  expect_refused([&] { query.wait(0); }, "WaitForSingleObject(" + name + ") needs SYNCHRONIZE");

  const Process terminate = open(child, PROCESS_TERMINATE);
  terminate.terminate(7);
  EXPECT_TRUE(child.wait(30000));
  EXPECT_EQ(child.exit_code(), 7u);
}

DWORD WINAPI return_at_once(void*) {
  return 0;
}

TEST(ThreadRights, EachCallNeedsTheRightItsDocumentationNames) {
  DWORD id = 0;
  const Handle created(CreateThread(nullptr, 0, &return_at_once, nullptr, CREATE_SUSPENDED, &id));
  ASSERT_TRUE(created) << error_text(GetLastError());
  auto open_thread = [&](DWORD access) {
    HANDLE h = OpenThread(access, FALSE, id);
    if (h == nullptr) throw_last_error("OpenThread");
    return Thread::adopt(h, "suspended thread", access);
  };
  const std::string name = "(suspended thread)";

  const Thread synchronize = open_thread(SYNCHRONIZE);
  EXPECT_FALSE(synchronize.wait(0));
  expect_refused([&] { synchronize.resume(); },
                 "ResumeThread" + name +
                     " needs THREAD_SUSPEND_RESUME, which its handle was not opened with (it has "
                     "SYNCHRONIZE)");
  expect_refused([&] { synchronize.cancel_synchronous_io(); },
                 "CancelSynchronousIo" + name + " needs THREAD_TERMINATE");

  const Thread terminate = open_thread(THREAD_TERMINATE);
  EXPECT_NO_THROW(terminate.cancel_synchronous_io());  // suspended: no I/O of its own to cancel
  expect_refused([&] { terminate.wait(0); }, "WaitForSingleObject" + name + " needs SYNCHRONIZE");

  open_thread(THREAD_SUSPEND_RESUME).resume();
  EXPECT_TRUE(synchronize.wait(30000));  // it ran and returned
}

TEST(EventRights, EachCallNeedsTheRightItsDocumentationNames) {
  const Event event(Event::Reset::manual, "test event");
  auto duplicate = [&](DWORD access) {
    HANDLE h = nullptr;
    if (!DuplicateHandle(GetCurrentProcess(), event.waitable("DuplicateHandle"),
                         GetCurrentProcess(), &h, access, FALSE, 0)) {
      throw_last_error("DuplicateHandle");
    }
    return Event::adopt(h, "test event", access);
  };

  const Event waiter = duplicate(SYNCHRONIZE);
  expect_refused([&] { waiter.set(); },
                 "SetEvent(test event) needs EVENT_MODIFY_STATE, which its handle was not opened "
                 "with (it has SYNCHRONIZE)");
  expect_refused([&] { waiter.reset(); }, "ResetEvent(test event) needs EVENT_MODIFY_STATE");
  expect_refused([&] { waiter.signalled_by("RegNotifyChangeKeyValue"); },
                 "RegNotifyChangeKeyValue needs EVENT_MODIFY_STATE");
  EXPECT_FALSE(waiter.wait(0ms));

  const Event setter = duplicate(EVENT_MODIFY_STATE);
  expect_refused([&] { setter.wait(0ms); }, "WaitForSingleObject(test event) needs SYNCHRONIZE");
  expect_refused([&] { setter.waitable("WaitForMultipleObjects(x)"); },
                 "WaitForMultipleObjects(x) needs SYNCHRONIZE");
  setter.set();
  EXPECT_TRUE(waiter.wait(0ms));
  EXPECT_TRUE(event.wait(0ms));  // the creator's handle has every right
}

TEST(JobObjectRights, EachCallNeedsTheRightsItsDocumentationNames) {
  const SuspendedHelper helper;
  const Process& child = helper.process;
  const JobObject job = JobObject::create("test job");
  EXPECT_TRUE(job.rights().has(JOB_OBJECT_ALL_ACCESS));

  expect_refused([&] { job.with_rights(JOB_OBJECT_QUERY).set_limits({}); },
                 "SetInformationJobObject(test job, extended limits) needs "
                 "JOB_OBJECT_SET_ATTRIBUTES");
  expect_refused([&] { job.with_rights(JOB_OBJECT_SET_ATTRIBUTES).assign(child); },
                 "AssignProcessToJobObject(test job, " + child.what() +
                     ") on the job needs JOB_OBJECT_ASSIGN_PROCESS");
  // The process's handle needs both PROCESS_SET_QUOTA and PROCESS_TERMINATE.
  expect_refused([&] { job.assign(open(child, PROCESS_TERMINATE | SYNCHRONIZE)); },
                 "AssignProcessToJobObject(test job, " + child.what() +
                     ") on the process needs PROCESS_SET_QUOTA,");
  expect_refused([&] { job.with_rights(JOB_OBJECT_ASSIGN_PROCESS).terminate(1); },
                 "TerminateJobObject(test job) needs JOB_OBJECT_TERMINATE");

  // With exactly the rights documented, each call is made and does its work.
  job.with_rights(JOB_OBJECT_SET_ATTRIBUTES).set_limits({});
  job.with_rights(JOB_OBJECT_ASSIGN_PROCESS)
      .assign(open(child, PROCESS_SET_QUOTA | PROCESS_TERMINATE));
  job.with_rights(JOB_OBJECT_TERMINATE).terminate(9);
  EXPECT_TRUE(child.wait(30000));
  EXPECT_EQ(child.exit_code(), 9u);
}

}  // namespace
}  // namespace tandem::win32
