// What the Windows end-to-end suites share: the two services registered and removed, their test
// configs and logs, and waits on registry change notifications for their publications (never
// polling), each bounded and naming what it waited for.
#pragma once

#include <windows.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "common/paths.h"
#include "common/win32/error.h"
#include "common/win32/handle.h"
#include "common/win32/registry.h"
#include "common/win32/registry_publication.h"
#include "common/win32/scm.h"
#include "common/win32/security.h"
#include "common/win32/trainer_registry.h"

namespace tandem::testing {

using namespace std::chrono_literals;

inline std::string windows_path(std::string path) {
  for (auto& c : path) c = c == '/' ? '\\' : c;
  return path;
}

// The trainer's published status (HKLM\SOFTWARE\Tandem\Trainer), as a test reads it.
using TrainerValues = TrainerStatus;
inline std::optional<TrainerValues> read_trainer() {
  return win32::read_trainer_registry();
}

inline std::string describe(const std::optional<TrainerValues>& v) {
  if (!v) return "(no Trainer key)";
  return "state=" + v->state + " job=" + v->job + " items=" + std::to_string(v->items_done) + "/" +
         std::to_string(v->items_total) + " done=" + std::to_string(v->jobs_done) +
         " failed=" + std::to_string(v->jobs_failed) + " last_error=" + v->last_error;
}

// Waits for the trainer's registry values to satisfy `done`, woken by each change of the key.
inline TrainerValues wait_trainer(const std::function<bool(const TrainerValues&)>& done,
                                  std::chrono::milliseconds timeout, const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  win32::Handle event(CreateEventW(nullptr, FALSE, FALSE, nullptr));
  for (;;) {
    // Armed before reading, so no change slips between the read and the wait.
    auto key = win32::RegistryKey::open(HKEY_LOCAL_MACHINE, win32::kTrainerKey, KEY_NOTIFY);
    if (!key) key = win32::RegistryKey::open(HKEY_LOCAL_MACHINE, "SOFTWARE", KEY_NOTIFY);
    key->notify_change(event.get());
    auto values = read_trainer();
    if (values && done(*values)) return *values;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= 0ms) {
      throw Error("timed out after " + std::to_string(timeout.count()) + " ms waiting for " + what +
                  "; trainer: " + describe(values));
    }
    WaitForSingleObject(event.get(), static_cast<DWORD>(left.count()));
  }
}

// Waits, on registry change notifications, until the running TandemLlm (the SCM's pid) has
// published `ready`; returns its port.
inline std::uint16_t wait_llm_published(DWORD pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  win32::Handle event(CreateEventW(nullptr, FALSE, FALSE, nullptr));
  for (;;) {
    win32::RegistryKey::open(HKEY_LOCAL_MACHINE, win32::kLlmServerKey, KEY_NOTIFY)
        ->notify_change(event.get());
    auto published = win32::read_publication(win32::kLlmServerKey);
    if (published && published->state == discovery::State::ready && published->pid == pid) {
      return published->port;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= 0ms) throw Error("TandemLlm pid " + std::to_string(pid) + " never published ready");
    WaitForSingleObject(event.get(), static_cast<DWORD>(left.count()));
  }
}

// Through the SCM API, as tandemctl install does: Wine 8's `sc create depend=` writes a
// malformed DependOnService list.
inline void register_service(const std::string& name, const std::string& exe,
                             const std::string& depends = {}) {
  win32::ServiceConfig config;
  config.name = name;
  config.binary_path = windows_path(exe);
  if (!depends.empty()) config.dependencies = {depends};
  win32::Service::create(win32::ScManager::open(SC_MANAGER_ALL_ACCESS), config);
}

// Waits, bounded, for a stopped service's process to end. Wine deletes a service marked for
// deletion only once its process is gone, so a process that lingers after STOPPED leaves the
// name taken ("marked for delete", 1072) for every later test: that is a defect worth naming.
inline void wait_process_ended(const std::string& name, DWORD pid,
                               std::chrono::milliseconds timeout) {
  if (pid == 0) return;
  win32::Handle process(OpenProcess(SYNCHRONIZE, FALSE, pid));
  if (!process) return;  // already gone
  if (WaitForSingleObject(process.get(), static_cast<DWORD>(timeout.count())) == WAIT_OBJECT_0) {
    return;
  }
  TerminateProcess(process.get(), 99);  // so the next test starts clean; this one still fails
  throw Error(name + " reported STOPPED but its process " + std::to_string(pid) +
              " was still alive " + std::to_string(timeout.count()) + " ms later");
}

// Stops (trainer first) and deletes whichever of the two services exists, and waits until each
// one's process has ended, so the name is free for the next test.
inline void remove_tandem_services() {
  auto scm = win32::ScManager::open(SC_MANAGER_ALL_ACCESS);
  for (const char* name : {"TandemTrainer", "TandemLlm"}) {
    auto service = win32::Service::try_open(scm, name);
    if (!service) continue;
    auto status = service->query();
    // The process of the last run: a stopped service's status no longer names it.
    DWORD pid = status.pid;
    if (status.state != ServiceRunState::stopped) {
      try {
        service->stop();
      } catch (const Error&) {
        // Already stopping.
      }
      service->wait_for_state(ServiceRunState::stopped, 30s);
    }
    wait_process_ended(name, pid, 30s);
    try {
      service->remove();
    } catch (const win32::Win32Error& e) {
      if (e.code() != ERROR_SERVICE_MARKED_FOR_DELETE) throw;
    }
  }
}

// The server's test config: the given ports, one thread (the tiny model is slower on two threads
// of a shared two-core machine), a small context.
inline void write_llm_test_config(std::uint16_t port) {
  std::filesystem::create_directories(paths::config_dir());
  write_file_atomically(
      paths::llm_server_config(),
      nlohmann::json{
          {"port", port}, {"port_range", 8}, {"parallel", 2}, {"ctx_size", 512}, {"threads", 1}}
          .dump(2));
}

inline void write_trainer_test_config(const nlohmann::json& extra = nlohmann::json::object()) {
  // read_timeout_ms: the tiny model answers in milliseconds. A request that lands on a killed
  // server's old port, now held by a test's squatter, waits this long (a known defect: the
  // closing note of session 10); 120 s by default made the kill tests slow and flaky.
  nlohmann::json config = {
      {"resolve_timeout_ms", 60000}, {"connect_timeout_ms", 1000}, {"read_timeout_ms", 15000}};
  config.update(extra);
  std::filesystem::create_directories(paths::config_dir());
  write_file_atomically(paths::trainer_config(), config.dump(2));
}

// The pair as the service suites run it: no services, jobs or trainer status left from before,
// the test configs, both registered (the trainer depending on the server), not started.
inline void set_up_test_pair(std::uint16_t port, const std::string& llm_exe,
                             const std::string& trainer_exe) {
  remove_tandem_services();
  std::error_code ignored;
  std::filesystem::remove_all(paths::jobs_dir(), ignored);
  // The data folder as the installer leaves it (Administrators' with a protected DACL, inherited
  // by the jobs folders the tests and the trainer make): on Windows one made here would inherit
  // %ProgramData%'s, which lets Users add files, and the trainer would refuse its jobs (issue 17).
  // Wine keeps no DACLs; the calls succeed there.
  std::filesystem::create_directories(paths::data_dir());
  win32::secure_folder(paths::data_dir(), "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FRFX;;;BU)");
  win32::RegistryKey::delete_tree(HKEY_LOCAL_MACHINE, win32::kTrainerKey);
  write_llm_test_config(port);
  write_trainer_test_config();
  register_service("TandemLlm", llm_exe);
  register_service("TandemTrainer", trainer_exe, "TandemLlm");
}

// The end of both services' logs, for a failed test's output.
inline void print_service_logs() {
  for (const char* log : {"tandem-trainer.log", "tandem-llm.log"}) {
    std::error_code ignored;
    const auto file = paths::logs_dir() / log;
    if (!std::filesystem::exists(file, ignored)) {
      std::printf("--- %s: none\n", log);
      continue;
    }
    const std::string text = read_file(file);
    std::printf("--- %s (last 4000 bytes) ---\n%s\n", log,
                text.substr(text.size() > 4000 ? text.size() - 4000 : 0).c_str());
  }
}

// Both services removed, their logs shown when the test failed, the test configs gone.
inline void tear_down_test_pair(bool failed) {
  remove_tandem_services();
  if (failed) print_service_logs();
  std::error_code ignored;
  std::filesystem::remove(paths::llm_server_config(), ignored);
  std::filesystem::remove(paths::trainer_config(), ignored);
}

}  // namespace tandem::testing
