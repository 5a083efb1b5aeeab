// tandem-child-helper.exe: the program child_process_test runs under win32::JobObjectLauncher.
// It acts out its arguments in order, writing straight to its standard handles (no C runtime
// buffering, so a line is in the pipe when the test looks for it):
//   --out TEXT / --err TEXT   TEXT and CR LF to stdout / stderr
//   --out-raw TEXT            TEXT to stdout, no line ending
//   --env NAME                "NAME=value" or "NAME is not set"
//   --env-count NAME          "NAME appears N times" (names compared ignoring case)
//   --cwd                     "cwd=<current folder>"
//   --args                    every later argument as "arg=<argument>", then exit 0
//   --check-handle N          "handle N valid" or "handle N invalid" (an inherited handle?)
//   --stdout-handle           "pid P stdout H": where another process can duplicate our stdout
//   --wait-event NAME         wait for the named event (exit 98 after 30 s)
//   --spawn-grandchild        start this exe with --block, sharing stdout; "grandchild <pid>"
//   --block                   wait to be ended (exit 97 after 60 s)
//   --exit N                  exit with N
#include <windows.h>

#include <cwchar>
#include <string>

#include "common/win32/strings.h"

namespace {

using tandem::win32::narrow;

void write(DWORD which, const std::string& text) {
  DWORD written = 0;
  WriteFile(GetStdHandle(which), text.data(), static_cast<DWORD>(text.size()), &written, nullptr);
}

void say(const std::string& line) {
  write(STD_OUTPUT_HANDLE, line + "\r\n");
}

std::string environment_value(const std::wstring& name) {
  const DWORD n = GetEnvironmentVariableW(name.c_str(), nullptr, 0);
  if (n == 0) return narrow(name) + " is not set";
  std::wstring value(n, L'\0');
  value.resize(GetEnvironmentVariableW(name.c_str(), value.data(), n));
  return narrow(name) + "=" + narrow(value);
}

int count_variable(const std::wstring& name) {
  int count = 0;
  wchar_t* block = GetEnvironmentStringsW();
  for (const wchar_t* entry = block; *entry != L'\0'; entry += std::wcslen(entry) + 1) {
    const std::wstring_view text(entry);
    const std::wstring_view entry_name = text.substr(0, text.find(L'=', 1));
    if (CompareStringOrdinal(entry_name.data(), static_cast<int>(entry_name.size()), name.data(),
                             static_cast<int>(name.size()), TRUE) == CSTR_EQUAL) {
      ++count;
    }
  }
  FreeEnvironmentStringsW(block);
  return count;
}

int spawn_grandchild() {
  std::wstring self(MAX_PATH, L'\0');
  self.resize(GetModuleFileNameW(nullptr, self.data(), MAX_PATH));
  std::wstring command_line = L"\"" + self + L"\" --block";
  STARTUPINFOW startup{};
  startup.cb = sizeof(startup);
  PROCESS_INFORMATION started{};
  // Inherits our stdout: the grandchild keeps the launcher's pipe open while it lives.
  if (!CreateProcessW(nullptr, command_line.data(), nullptr, nullptr, TRUE, 0, nullptr, nullptr,
                      &startup, &started)) {
    write(STD_ERROR_HANDLE, "CreateProcessW(grandchild) failed\r\n");
    return 96;
  }
  say("grandchild " + std::to_string(started.dwProcessId));
  CloseHandle(started.hThread);
  CloseHandle(started.hProcess);
  return 0;
}

}  // namespace

int wmain(int argc, wchar_t** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::wstring arg = argv[i];
    const std::wstring value = i + 1 < argc ? argv[i + 1] : L"";
    if (arg == L"--out") {
      say(narrow(value));
      ++i;
    } else if (arg == L"--err") {
      write(STD_ERROR_HANDLE, narrow(value) + "\r\n");
      ++i;
    } else if (arg == L"--out-raw") {
      write(STD_OUTPUT_HANDLE, narrow(value));
      ++i;
    } else if (arg == L"--env") {
      say(environment_value(value));
      ++i;
    } else if (arg == L"--env-count") {
      say(narrow(value) + " appears " + std::to_string(count_variable(value)) + " times");
      ++i;
    } else if (arg == L"--cwd") {
      std::wstring folder(MAX_PATH, L'\0');
      folder.resize(GetCurrentDirectoryW(MAX_PATH, folder.data()));
      say("cwd=" + narrow(folder));
    } else if (arg == L"--args") {
      for (int j = i + 1; j < argc; ++j) say("arg=" + narrow(argv[j]));
      return 0;
    } else if (arg == L"--check-handle") {
      DWORD flags = 0;
      const auto handle = reinterpret_cast<HANDLE>(static_cast<ULONG_PTR>(std::stoull(value)));
      say("handle " + narrow(value) +
          (GetHandleInformation(handle, &flags) ? " valid" : " invalid"));
      ++i;
    } else if (arg == L"--stdout-handle") {
      const auto handle = reinterpret_cast<ULONG_PTR>(GetStdHandle(STD_OUTPUT_HANDLE));
      say("pid " + std::to_string(GetCurrentProcessId()) + " stdout " + std::to_string(handle));
    } else if (arg == L"--wait-event") {
      HANDLE event = OpenEventW(SYNCHRONIZE, FALSE, value.c_str());
      if (event == nullptr) return 95;
      if (WaitForSingleObject(event, 30000) != WAIT_OBJECT_0) return 98;
      CloseHandle(event);
      ++i;
    } else if (arg == L"--spawn-grandchild") {
      if (int failed = spawn_grandchild()) return failed;
    } else if (arg == L"--block") {
      HANDLE never = CreateEventW(nullptr, TRUE, FALSE, nullptr);
      WaitForSingleObject(never, 60000);
      return 97;
    } else if (arg == L"--exit") {
      ExitProcess(static_cast<UINT>(std::stoull(value)));
    } else {
      write(STD_ERROR_HANDLE, "unknown argument " + narrow(arg) + "\r\n");
      return 2;
    }
  }
  return 0;
}
