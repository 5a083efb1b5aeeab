// What tandem-tray shows, computed from what it read: the SCM's view of both services, the LLM's
// registry publication with the resolver's verdict, and the trainer's published status.
// Portable (no windows.h), so every rule here is unit-tested natively.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "common/discovery/endpoint.h"
#include "common/service_controller.h"
#include "common/trainer_status.h"

namespace tandem::tray {

// A service as the SCM reports it; no state when it is not installed.
using ServiceState = std::optional<ServiceRunState>;
// The tray's words: "not installed", "starting", "pausing", ...
std::string_view state_name(ServiceState state);

struct ServiceInput {
  ServiceState state;
  std::uint32_t pid = 0;        // the SCM's pid; 0 unless running
  std::uint32_t exit_code = 0;  // once stopped: the service-specific or Win32 exit code
  bool installed() const { return state.has_value(); }
};

// HKLM\SOFTWARE\Tandem\Trainer, read through common/trainer_status.h.
using TrainerValues = TrainerStatus;

struct Snapshot {
  ServiceInput llm;
  ServiceInput trainer;
  std::optional<discovery::Endpoint> publication;  // as read from the registry, unchecked
  bool verified = false;  // the resolver's verdict (SCM pid, pipe, /health)
  std::string problem;    // the resolver's reason when not verified
  std::optional<TrainerValues> trainer_values;
  bool recent_job_failure = false;  // set by Monitor
};

enum class Colour { green, amber, red, grey };

// Ready only when every source agrees: a stale publication (pid not the SCM's, or not verified)
// never counts.
bool llm_ready(const Snapshot& s);
// The trainer's values when they belong to the process the SCM runs now; stale ones are ignored.
const TrainerValues* live_trainer(const Snapshot& s);

Colour colour(const Snapshot& s);

// One line each, for the menu header, the status window and the tooltip.
std::string llm_summary(const Snapshot& s);      // "LLM ready on 127.0.0.1:8031"
std::string trainer_summary(const Snapshot& s);  // "training demo 42%"
// Percent of the current job, when the trainer reports a total.
std::optional<int> job_percent(const Snapshot& s);

// The notification-area tooltip: at most two lines and kMaxTooltip UTF-16 units (NOTIFYICONDATAW's
// szTip holds 128 with the terminator).
inline constexpr std::size_t kMaxTooltip = 127;
std::string tooltip(const Snapshot& s);

struct ServiceMenu {
  bool start = false, stop = false, restart = false;
};
struct MenuState {
  ServiceMenu llm, trainer;
  bool copy_url = false;
};
MenuState menu_state(const Snapshot& s);

// UTF-16 code units of a UTF-8 string (what the Win32 buffers count).
std::size_t utf16_length(const std::string& utf8);
// At most `max_units` UTF-16 units, cut at a character boundary and ending in "…" when cut.
std::string truncate_utf16(const std::string& utf8, std::size_t max_units);

// NOTIFYICONDATAW's szInfoTitle and szInfo, without the terminator.
inline constexpr std::size_t kMaxBalloonTitle = 63;
inline constexpr std::size_t kMaxBalloonText = 255;

struct Notification {
  enum class Kind { server_stopped, job_finished, job_failed } kind;
  bool warning = false;
  std::string title;
  std::string text;
};

// Compares each snapshot with the previous one and says which transitions deserve a balloon;
// remembers recent job failures (amber) and rate-limits what it announces. Time is passed in.
class Monitor {
 public:
  using Clock = std::chrono::steady_clock;
  struct Limits {
    std::chrono::seconds failure_memory{600};  // amber this long after a job failed
    std::chrono::seconds window{60};           // at most max_per_window balloons in any window
    std::size_t max_per_window = 3;
    std::chrono::seconds expected_stop{120};  // a stop asked for through the tray is no surprise
  };
  Monitor() : Monitor(Limits{}) {}
  explicit Monitor(Limits limits) : limits_(limits) {}

  // The user asked the tray to stop or restart TandemLlm: its stop is expected for a while.
  void expect_llm_stop(Clock::time_point now) {
    llm_stop_expected_until_ = now + limits_.expected_stop;
  }

  // Sets s.recent_job_failure and returns the notifications to show now.
  std::vector<Notification> update(Snapshot& s, Clock::time_point now);
  // When what the last update() showed changes with time alone (a failure stops being recent),
  // if it does: the one moment the tray must look again without an event.
  std::optional<Clock::time_point> next_change(Clock::time_point now) const;

  std::size_t suppressed() const { return suppressed_; }

 private:
  bool allow(Clock::time_point now);

  Limits limits_;
  std::optional<Snapshot> previous_;
  std::optional<Clock::time_point> last_failure_;
  std::optional<Clock::time_point> llm_stop_expected_until_;
  std::deque<Clock::time_point> shown_;
  std::size_t suppressed_ = 0;
  std::size_t unannounced_ = 0;  // suppressed since the last balloon shown
};

}  // namespace tandem::tray
