#include "tray/change_watcher.h"

#include <algorithm>
#include <mutex>

#include <optional>
#include <thread>
#include <vector>

#include "common/error.h"
#include "common/log.h"
#include "common/service_names.h"
#include "common/win32/registry_publication.h"
#include "common/win32/registry_watch.h"
#include "common/win32/scm.h"
#include "common/win32/waits.h"
#include "tray/snapshot_reader.h"

namespace tandem::tray {
namespace {

using namespace std::chrono_literals;
using win32::Event;

// A round (SCM, registry, pipe 2 s, /health 1 s connect + 5 s read) ends well within this.
constexpr auto kRoundBound = 15s;

}  // namespace

struct ChangeWatcher::Shared {
  Callback on_snapshot;
  std::chrono::milliseconds retry{0};
  Event stop{Event::Reset::manual, "tray stop"};
  Event refresh{Event::Reset::automatic, "tray refresh"};
  Event rearm{Event::Reset::automatic, "tray deadline"};  // `deadline` changed: wait anew
  std::mutex mutex;
  std::optional<std::chrono::steady_clock::time_point> deadline;
  Event parked{Event::Reset::manual, "tray parked"};  // set once on_snapshot is not called again
  Event never{Event::Reset::manual, "tray never"};    // never set: what the parked worker waits on
};

namespace {

// One round: arm the watches, read, report, wait for the next reason to read. False on stop.
bool round(ChangeWatcher::Shared& shared) {
  // Armed before reading, so no change slips between the read and the wait.
  win32::RegistryWatch llm(win32::kLlmServerKey);
  win32::RegistryWatch trainer(win32::kTrainerKey);
  // A service's state changing (a crash withdraws nothing from the registry) is seen at once,
  // through the SCM's notification on a SERVICE_QUERY_STATUS handle: a standard user may not
  // open the process of a service running under its virtual account (issue 17, defect 4).
  // Armed before reading too; a service not installed has none.
  std::vector<win32::ServiceStateWatch> services;
  {
    const auto scm = win32::ScManager::open();
    for (const char* name : {kLlmServiceName, kTrainerServiceName}) {
      if (auto watch = win32::ServiceStateWatch::arm(scm, name)) {
        services.push_back(std::move(*watch));
      }
    }
  }
  Snapshot snapshot = read_snapshot();
  if (shared.stop.wait(0ms)) return false;
  shared.on_snapshot(std::move(snapshot));

  std::vector<HANDLE> handles = {shared.stop.waitable("tray watch"),
                                 shared.refresh.waitable("tray watch"),
                                 shared.rearm.waitable("tray watch"), llm.event(), trainer.event()};
  for (const auto& s : services) handles.push_back(s.event());
  for (;;) {
    auto timeout = win32::kWaitForever;  // no deadline: only an event ends the wait
    {
      std::lock_guard lock(shared.mutex);
      if (shared.deadline) {
        timeout = std::max(std::chrono::duration_cast<std::chrono::milliseconds>(
                               *shared.deadline - std::chrono::steady_clock::now()),
                           0ms);
      }
    }
    const auto woke = win32::wait_any(handles, timeout, "tray changes");
    if (!woke) {  // the deadline: read once, and wait for events only until the next is set
      std::lock_guard lock(shared.mutex);
      shared.deadline.reset();
      return true;
    }
    if (*woke == 0) return false;
    if (*woke != 2) return true;
  }
}

void work(const std::shared_ptr<ChangeWatcher::Shared>& shared) {
  for (;;) {
    try {
      if (!round(*shared)) break;
    } catch (const Error& e) {
      // Keep the icon alive: say why, and try again after the retry interval (or stop).
      TLOG(error) << "tray refresh: " << e.what();
      if (shared->stop.wait(shared->retry)) break;
    }
  }
  shared->parked.set();
  // Parked until the process ends instead of returning. The resolver's HTTP client (cpp-httplib)
  // keeps thread_local std::regex objects; MinGW runs thread_local destructors after the
  // thread's emulated TLS is released, and under Wine that corrupted the heap each time this
  // thread ended (the crash was in std::regex's shared_ptr release, on this thread). ExitProcess
  // ends a parked thread without running them.
  shared->never.wait(win32::kWaitForever);
}

}  // namespace

ChangeWatcher::ChangeWatcher(Callback on_snapshot, std::chrono::milliseconds retry)
    : shared_(std::make_shared<Shared>()) {
  shared_->on_snapshot = std::move(on_snapshot);
  shared_->retry = retry;
  std::thread([shared = shared_] { work(shared); }).detach();
}

ChangeWatcher::~ChangeWatcher() {
  try {
    shared_->stop.set();
    if (!shared_->parked.wait(kRoundBound)) {
      // It still holds `shared_`; a late snapshot only fails to post to the closed window.
      TLOG(warning) << "the tray's refresh thread did not finish its round within "
                    << kRoundBound.count() << " s";
    }
  } catch (const Error& e) {
    TLOG(error) << "stopping the tray's refresh thread: " << e.what();
  }
}

void ChangeWatcher::refresh_now() {
  shared_->refresh.set();
}

void ChangeWatcher::refresh_at(std::optional<std::chrono::steady_clock::time_point> when) {
  {
    std::lock_guard lock(shared_->mutex);
    if (shared_->deadline == when) return;
    shared_->deadline = when;
  }
  shared_->rearm.set();
}

}  // namespace tandem::tray
