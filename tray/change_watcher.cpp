#include "tray/change_watcher.h"

#include <optional>
#include <thread>
#include <vector>

#include "common/error.h"
#include "common/log.h"
#include "common/win32/error.h"
#include "common/win32/handle.h"
#include "common/win32/registry.h"
#include "common/win32/registry_publication.h"
#include "tray/snapshot_reader.h"

namespace tandem::tray {
namespace {

using namespace std::chrono_literals;

// A round (SCM, registry, pipe 2 s, /health 1 s connect + 5 s read) ends well within this.
constexpr auto kRoundBound = 15s;

win32::Handle make_event(bool manual_reset) {
  win32::Handle event(CreateEventW(nullptr, manual_reset, FALSE, nullptr));
  if (!event) win32::throw_last_error("CreateEventW");
  return event;
}

// A one-shot change notification on `path`, or on the nearest parent that exists, so that the
// key's creation is seen too. Armed on construction; a new one is made for every round.
class KeyWatch {
 public:
  explicit KeyWatch(const char* path) : event_(make_event(true)) {
    for (const char* candidate : {path, "SOFTWARE\\Tandem", "SOFTWARE"}) {
      if (auto key = win32::RegistryKey::open(HKEY_LOCAL_MACHINE, candidate, KEY_NOTIFY)) {
        key_.emplace(std::move(*key));
        key_->notify_change(event_.get());
        return;
      }
    }
  }
  HANDLE event() const { return event_.get(); }

 private:
  win32::Handle event_;
  std::optional<win32::RegistryKey> key_;
};

// SYNCHRONIZE on a service's process, so a crash (which withdraws nothing from the registry) is
// seen at once. Best effort: a user may not be allowed to open a service's process.
std::optional<win32::Handle> open_running_process(std::uint32_t pid) {
  if (pid == 0) return std::nullopt;
  win32::Handle process(OpenProcess(SYNCHRONIZE, FALSE, pid));
  // An exited process the SCM still holds would wake every wait at once: leave it out.
  if (!process || WaitForSingleObject(process.get(), 0) != WAIT_TIMEOUT) return std::nullopt;
  return process;
}

}  // namespace

struct ChangeWatcher::Shared {
  Callback on_snapshot;
  DWORD fallback_ms = 0;
  win32::Handle stop = make_event(true);
  win32::Handle refresh = make_event(false);
  win32::Handle parked = make_event(true);  // set once on_snapshot will not be called again
  win32::Handle never = make_event(true);   // never set: what the parked worker waits on
};

namespace {

// One round: arm the watches, read, report, wait for the next reason to read. False on stop.
bool round(ChangeWatcher::Shared& shared) {
  // Armed before reading, so no change slips between the read and the wait.
  KeyWatch llm(win32::kLlmServerKey);
  KeyWatch trainer(win32::kTrainerKey);
  Snapshot snapshot = read_snapshot();
  std::vector<win32::Handle> processes;
  for (auto pid : {snapshot.llm.pid, snapshot.trainer.pid}) {
    if (auto process = open_running_process(pid)) processes.push_back(std::move(*process));
  }
  if (WaitForSingleObject(shared.stop.get(), 0) == WAIT_OBJECT_0) return false;
  shared.on_snapshot(std::move(snapshot));

  std::vector<HANDLE> handles = {shared.stop.get(), shared.refresh.get(), llm.event(),
                                 trainer.event()};
  for (const auto& p : processes) handles.push_back(p.get());
  const DWORD r = WaitForMultipleObjects(static_cast<DWORD>(handles.size()), handles.data(), FALSE,
                                         shared.fallback_ms);
  if (r == WAIT_FAILED) win32::throw_last_error("WaitForMultipleObjects(tray changes)");
  return r != WAIT_OBJECT_0;
}

void work(const std::shared_ptr<ChangeWatcher::Shared>& shared) {
  for (;;) {
    try {
      if (!round(*shared)) break;
    } catch (const Error& e) {
      // Keep the icon alive: say why, and try again after the fallback interval (or stop).
      TLOG(error) << "tray refresh: " << e.what();
      if (WaitForSingleObject(shared->stop.get(), shared->fallback_ms) == WAIT_OBJECT_0) break;
    }
  }
  SetEvent(shared->parked.get());
  // Parked until the process ends instead of returning. The resolver's HTTP client (cpp-httplib)
  // keeps thread_local std::regex objects; MinGW runs thread_local destructors after the
  // thread's emulated TLS is released, and under Wine that corrupted the heap each time this
  // thread ended (the crash was in std::regex's shared_ptr release, on this thread). ExitProcess
  // ends a parked thread without running them.
  WaitForSingleObject(shared->never.get(), INFINITE);
}

}  // namespace

ChangeWatcher::ChangeWatcher(Callback on_snapshot, std::chrono::milliseconds fallback)
    : shared_(std::make_shared<Shared>()) {
  shared_->on_snapshot = std::move(on_snapshot);
  shared_->fallback_ms = static_cast<DWORD>(fallback.count());
  std::thread([shared = shared_] { work(shared); }).detach();
}

ChangeWatcher::~ChangeWatcher() {
  SetEvent(shared_->stop.get());
  const auto bound = static_cast<DWORD>(std::chrono::milliseconds(kRoundBound).count());
  if (WaitForSingleObject(shared_->parked.get(), bound) != WAIT_OBJECT_0) {
    // It still holds `shared_`; a late snapshot only fails to post to the closed window.
    TLOG(warning) << "the tray's refresh thread did not finish its round within "
                  << kRoundBound.count() << " s";
  }
}

void ChangeWatcher::refresh_now() {
  SetEvent(shared_->refresh.get());
}

}  // namespace tandem::tray
