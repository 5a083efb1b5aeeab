#include "tray/tray_state.h"

#include <algorithm>

namespace tandem::tray {
namespace {

constexpr std::size_t kMaxJobName = 40;
// A tooltip this short stays on one line; longer ones are split after the LLM part.
constexpr std::size_t kOneLineTooltip = 64;

bool is_down(ServiceState state) {
  return !state || state == ServiceRunState::stopped || state == ServiceRunState::stop_pending;
}

std::string without_scheme(const std::string& url) {
  constexpr std::string_view scheme = "http://";
  return url.starts_with(scheme) ? url.substr(scheme.size()) : url;
}

// Bytes in the UTF-8 sequence that starts with `lead` (1 for stray continuation bytes).
std::size_t sequence_bytes(unsigned char lead) {
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

}  // namespace

std::string_view state_name(ServiceState state) {
  if (!state) return "not installed";
  switch (*state) {
    case ServiceRunState::stopped:
      return "stopped";
    case ServiceRunState::start_pending:
      return "starting";
    case ServiceRunState::stop_pending:
      return "stopping";
    case ServiceRunState::running:
      return "running";
    case ServiceRunState::continue_pending:
      return "continuing";
    case ServiceRunState::pause_pending:
      return "pausing";
    case ServiceRunState::paused:
      return "paused";
  }
  return "unknown";
}

std::size_t utf16_length(const std::string& utf8) {
  std::size_t units = 0;
  for (std::size_t i = 0; i < utf8.size();) {
    const std::size_t n = sequence_bytes(static_cast<unsigned char>(utf8[i]));
    units += n == 4 ? 2 : 1;
    i += n;
  }
  return units;
}

std::string truncate_utf16(const std::string& utf8, std::size_t max_units) {
  if (utf16_length(utf8) <= max_units) return utf8;
  const std::string ellipsis = "\xE2\x80\xA6";  // U+2026, one unit
  if (max_units == 0) return {};
  std::size_t units = 0, i = 0;
  while (i < utf8.size()) {
    const std::size_t n = sequence_bytes(static_cast<unsigned char>(utf8[i]));
    const std::size_t u = n == 4 ? 2 : 1;
    if (units + u > max_units - 1) break;
    units += u;
    i += n;
  }
  return utf8.substr(0, std::min(i, utf8.size())) + ellipsis;
}

bool llm_ready(const Snapshot& s) {
  return s.llm.state == ServiceRunState::running && s.llm.pid != 0 && s.publication &&
         s.publication->state == discovery::State::ready && s.publication->pid == s.llm.pid &&
         s.verified;
}

const TrainerValues* live_trainer(const Snapshot& s) {
  const bool alive = s.trainer.state == ServiceRunState::running ||
                     s.trainer.state == ServiceRunState::paused ||
                     s.trainer.state == ServiceRunState::pause_pending ||
                     s.trainer.state == ServiceRunState::continue_pending;
  if (!alive || !s.trainer_values || s.trainer.pid == 0 || s.trainer_values->pid != s.trainer.pid) {
    return nullptr;
  }
  return &*s.trainer_values;
}

Colour colour(const Snapshot& s) {
  if (!s.llm.installed() && !s.trainer.installed()) return Colour::grey;
  if (is_down(s.llm.state) || is_down(s.trainer.state)) return Colour::red;
  const bool ready = llm_ready(s);
  if (s.llm.state == ServiceRunState::running && !ready) {
    // The SCM says running, so the endpoint must verify; only the publishing process still
    // loading (its own pid says "starting") is a transition rather than a fault.
    const bool loading = s.publication && s.publication->state == discovery::State::starting &&
                         s.publication->pid == s.llm.pid;
    if (!loading) return Colour::red;
  }
  if (!ready || s.trainer.state != ServiceRunState::running) return Colour::amber;
  const TrainerValues* t = live_trainer(s);
  if (!t || (t->state != "idle" && t->state != "working")) return Colour::amber;
  if (s.recent_job_failure) return Colour::amber;
  return Colour::green;
}

std::string llm_summary(const Snapshot& s) {
  if (llm_ready(s)) return "LLM ready on " + without_scheme(s.publication->url);
  if (s.llm.state != ServiceRunState::running) return "LLM " + std::string(state_name(s.llm.state));
  if (!s.publication) return "LLM running, no endpoint published";
  if (s.publication->pid != s.llm.pid) {
    return "LLM endpoint stale (pid " + std::to_string(s.publication->pid) + ", service runs " +
           std::to_string(s.llm.pid) + ")";
  }
  if (s.publication->state == discovery::State::starting) return "LLM loading model";
  if (s.publication->state != discovery::State::ready) {
    return "LLM running, endpoint " + std::string(discovery::state_name(s.publication->state));
  }
  return "LLM endpoint does not verify";
}

std::optional<int> job_percent(const Snapshot& s) {
  const TrainerValues* t = live_trainer(s);
  if (!t || t->job.empty() || t->items_total <= 0) return std::nullopt;
  const std::int64_t done = std::clamp<std::int64_t>(t->items_done, 0, t->items_total);
  return static_cast<int>(done * 100 / t->items_total);
}

std::string trainer_summary(const Snapshot& s) {
  std::string text;
  const TrainerValues* t = live_trainer(s);
  if (s.trainer.state != ServiceRunState::running && s.trainer.state != ServiceRunState::paused) {
    text = "trainer " + std::string(state_name(s.trainer.state));
  } else if (!t) {
    text = "trainer starting";
  } else if (!t->job.empty() && t->state == "working") {
    text = "training " + truncate_utf16(t->job, kMaxJobName);
    if (auto percent = job_percent(s)) text += " " + std::to_string(*percent) + "%";
  } else if (t->state == "waiting") {
    text = "trainer waiting for the LLM";
  } else if (t->state.empty()) {
    text = "trainer running";
  } else {
    text = "trainer " + t->state;
  }
  if (s.recent_job_failure) text += " (a job failed)";
  return text;
}

std::string tooltip(const Snapshot& s) {
  const std::string first = "Tandem \xE2\x80\x94 " + llm_summary(s);
  const std::string second = trainer_summary(s);
  const std::string one_line = first + " \xC2\xB7 " + second;
  if (utf16_length(one_line) <= kOneLineTooltip) return one_line;
  // Two lines; the first keeps room for at least a little of the second.
  const std::string head = truncate_utf16(first, kMaxTooltip - 40);
  return truncate_utf16(head + "\n" + second, kMaxTooltip);
}

MenuState menu_state(const Snapshot& s) {
  auto for_service = [](const ServiceInput& service) {
    ServiceMenu m;
    m.start = service.state == ServiceRunState::stopped;
    m.stop = m.restart = service.state == ServiceRunState::running;
    return m;
  };
  return {for_service(s.llm), for_service(s.trainer), llm_ready(s)};
}

bool Monitor::allow(Clock::time_point now) {
  while (!shown_.empty() && now - shown_.front() >= limits_.window) shown_.pop_front();
  if (shown_.size() >= limits_.max_per_window) {
    ++suppressed_;
    ++unannounced_;
    return false;
  }
  shown_.push_back(now);
  return true;
}

std::vector<Notification> Monitor::update(Snapshot& s, Clock::time_point now) {
  std::vector<Notification> candidates;
  if (previous_) {
    const Snapshot& p = *previous_;
    const bool was_up =
        p.llm.state == ServiceRunState::running || p.llm.state == ServiceRunState::start_pending;
    if (was_up && s.llm.state == ServiceRunState::stopped) {
      // A clean stop (from the tray, tandemctl or the Services console) exits with 0 after
      // withdrawing the publication; a failure or a crash does not.
      const bool asked = llm_stop_expected_until_ && now < *llm_stop_expected_until_;
      const bool withdrawn = !s.publication || s.publication->state == discovery::State::stopped;
      if (!asked && (s.llm.exit_code != 0 || !withdrawn)) {
        std::string text = "TandemLlm stopped unexpectedly";
        if (s.llm.exit_code != 0) text += " (exit code " + std::to_string(s.llm.exit_code) + ")";
        candidates.push_back({Notification::Kind::server_stopped, true, "Tandem LLM server stopped",
                              text + "; see its log."});
      }
    }
    const TrainerValues* before = live_trainer(p);
    const TrainerValues* after = live_trainer(s);
    // Counters are per trainer process: compare them only within one.
    if (before && after && before->pid == after->pid) {
      const std::string job = !before->job.empty() ? before->job : after->job;
      if (after->jobs_failed > before->jobs_failed) {
        last_failure_ = now;
        candidates.push_back(
            {Notification::Kind::job_failed, true, "Tandem job failed",
             !after->last_error.empty() ? after->last_error : "Job " + job + " failed."});
      }
      if (after->jobs_done > before->jobs_done) {
        candidates.push_back({Notification::Kind::job_finished, false, "Tandem job finished",
                              "Job " + (job.empty() ? std::string("?") : job) + " finished."});
      }
    }
  }
  s.recent_job_failure = last_failure_ && now - *last_failure_ < limits_.failure_memory;
  previous_ = s;

  std::vector<Notification> out;
  for (auto& n : candidates) {
    if (!allow(now)) continue;
    if (unannounced_ > 0) {
      n.text += " (" + std::to_string(unannounced_) + " earlier notice" +
                (unannounced_ == 1 ? "" : "s") + " not shown)";
      unannounced_ = 0;
    }
    n.title = truncate_utf16(n.title, kMaxBalloonTitle);
    n.text = truncate_utf16(n.text, kMaxBalloonText);
    out.push_back(std::move(n));
  }
  return out;
}

std::optional<Monitor::Clock::time_point> Monitor::next_change(Clock::time_point now) const {
  if (!last_failure_) return std::nullopt;
  const auto ends = *last_failure_ + limits_.failure_memory;
  if (ends <= now) return std::nullopt;
  return ends;
}

}  // namespace tandem::tray
