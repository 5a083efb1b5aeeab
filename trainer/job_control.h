// What a running job hears from the service (stop, pause) and tells it (progress). Jobs check
// in between items, so a pause or stop finishes the item in flight and nothing more.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>

#include "common/trainer_status.h"
#include "trainer/teacher.h"

namespace tandem::trainer {

// Pause/Continue from the Services console. Set from the SCM's control thread, waited on by the
// job thread, which holds only between items: the service is reported paused when it does (the
// `held` callback), not when the Pause arrives. A job that cannot hold (a `command` job's
// processes) refuses pauses while it runs, with the reason.
class PauseGate {
 public:
  // Ends the refusal it was given by try_refuse.
  class Refusal {
   public:
    explicit Refusal(const PauseGate* gate) : gate_(gate) {}
    Refusal(Refusal&& other) noexcept : gate_(std::exchange(other.gate_, nullptr)) {}
    Refusal& operator=(Refusal&&) = delete;
    ~Refusal() {
      if (gate_) gate_->end_refusal();
    }

   private:
    const PauseGate* gate_;
  };

  // "" when the pause is taken (`held` then runs once, on the job thread, when it holds), or
  // why it is refused (nothing changes then).
  std::string pause(std::function<void()> held = {}) {
    std::lock_guard lock(mutex_);
    if (!refusal_.empty()) return refusal_;
    held_ = std::move(held);
    set_locked(true);
    return {};
  }
  void resume() {
    std::lock_guard lock(mutex_);
    held_ = nullptr;
    set_locked(false);
  }
  bool paused() const {
    std::lock_guard lock(mutex_);
    return paused_;
  }
  // Returns at once when not paused; else says it holds and blocks until resumed. Throws
  // Stopped when `stop` is requested first.
  void wait_while_paused(std::stop_token stop) const {
    std::unique_lock lock(mutex_);
    if (!paused_) return;
    if (auto held = std::exchange(held_, nullptr)) {
      lock.unlock();  // it reports to the SCM, under its own lock
      held();
      lock.lock();
    }
    if (!changed_.wait(lock, stop, [this] { return !paused_; })) throw Stopped();
  }
  // Pauses are refused with `why` while the result lives; std::nullopt when a pause is already
  // asked for (hold first, then ask again).
  std::optional<Refusal> try_refuse(std::string why) const {
    std::lock_guard lock(mutex_);
    if (paused_) return std::nullopt;
    refusal_ = std::move(why);
    if (pausable_) pausable_(false);
    return Refusal(this);
  }
  // `report(false)` while pauses are refused, `report(true)` after (the SCM stops offering
  // Pause meanwhile: PauseHooks::watch_pausable); nullptr ends it.
  void watch_pausable(std::function<void(bool)> report) const {
    std::lock_guard lock(mutex_);
    pausable_ = std::move(report);
    if (pausable_) pausable_(refusal_.empty());
  }
  // `wake` is called on every pause and resume until it is replaced (nullptr: none): lets a
  // wait on something else (the idle inbox watch) end when the service is paused.
  void set_waker(std::function<void()> wake) const {
    std::lock_guard lock(mutex_);
    waker_ = std::move(wake);
  }

 private:
  void set_locked(bool paused) {
    paused_ = paused;
    changed_.notify_all();
    if (waker_) waker_();
  }
  void end_refusal() const {
    std::lock_guard lock(mutex_);
    refusal_.clear();
    if (pausable_) pausable_(true);
  }

  mutable std::mutex mutex_;
  mutable std::condition_variable_any changed_;
  bool paused_ = false;
  mutable std::function<void()> held_;
  mutable std::string refusal_;
  mutable std::function<void(bool)> pausable_;
  mutable std::function<void()> waker_;
};

struct Progress {
  Progress() = default;
  Progress(std::string phase_, std::int64_t done_, std::int64_t total_,
           TrainingFigures training_ = {})
      : phase(std::move(phase_)), done(done_), total(total_), training(std::move(training_)) {}

  std::string phase;  // "label", "train", "run", "evaluate"
  std::int64_t done = 0;
  std::int64_t total = 0;
  TrainingFigures training;  // a finetune job's figures
};

struct JobControl {
  std::stop_token stop;
  const PauseGate* pause = nullptr;  // none: never paused
  std::function<void(const Progress&)> on_progress;
  std::function<void(bool held)> on_hold;  // true when a pause starts holding, false after

  // Between items: throws Stopped on a stop, holds while paused (the checkpoint is already
  // durable, since items are recorded before this is called).
  void checkpoint_boundary() const {
    if (stop.stop_requested()) throw Stopped();
    if (pause == nullptr || !pause->paused()) return;
    if (on_hold) on_hold(true);
    pause->wait_while_paused(stop);
    if (on_hold) on_hold(false);
  }
  // For work that cannot hold between items: holds first if a pause is asked for, then refuses
  // pauses with `why` while the result lives. std::nullopt when there is no gate.
  std::optional<PauseGate::Refusal> refuse_pauses(const std::string& why) const {
    for (;;) {
      checkpoint_boundary();
      if (pause == nullptr) return std::nullopt;
      if (auto refusal = pause->try_refuse(why)) return refusal;
    }
  }
  void report(const Progress& progress) const {
    if (on_progress) on_progress(progress);
  }
};

}  // namespace tandem::trainer
