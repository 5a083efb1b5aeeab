// Waits the Windows end-to-end suites share: on registry change notifications for the
// services' publications (never polling), each bounded and naming what it waited for.
#pragma once

#include <windows.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/error.h"
#include "common/win32/handle.h"
#include "common/win32/registry.h"
#include "common/win32/registry_publication.h"

namespace tandem::testing {

using namespace std::chrono_literals;

inline std::string windows_path(std::string path) {
  for (auto& c : path) c = c == '/' ? '\\' : c;
  return path;
}

// The trainer's published status (HKLM\SOFTWARE\Tandem\Trainer), as a test reads it.
struct TrainerValues {
  std::string state, job, last_error, server_url;
  std::uint32_t items_done = 0, items_total = 0, jobs_done = 0, jobs_failed = 0, pid = 0;
};

inline std::optional<TrainerValues> read_trainer() {
  auto key = win32::RegistryKey::open(HKEY_LOCAL_MACHINE, win32::kTrainerKey);
  if (!key) return std::nullopt;
  TrainerValues v;
  v.state = key->get_string("State").value_or("");
  v.job = key->get_string("Job").value_or("");
  v.last_error = key->get_string("LastError").value_or("");
  v.server_url = key->get_string("ServerUrl").value_or("");
  v.items_done = key->get_dword("ItemsDone").value_or(0);
  v.items_total = key->get_dword("ItemsTotal").value_or(0);
  v.jobs_done = key->get_dword("JobsDone").value_or(0);
  v.jobs_failed = key->get_dword("JobsFailed").value_or(0);
  v.pid = key->get_dword("Pid").value_or(0);
  return v;
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

}  // namespace tandem::testing
