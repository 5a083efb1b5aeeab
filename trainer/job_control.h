// What a running job hears from the service (stop, pause) and tells it (progress). Jobs check
// in between items, so a pause or stop finishes the item in flight and nothing more.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>
#include <utility>

#include "common/trainer_status.h"
#include "trainer/teacher.h"

namespace tandem::trainer {

// Pause/Continue from the Services console. Set from the SCM's control thread, waited on by the
// job thread.
class PauseGate {
 public:
  void pause() { set(true); }
  void resume() { set(false); }
  bool paused() const {
    std::lock_guard lock(mutex_);
    return paused_;
  }
  // Returns at once when not paused; else blocks until resumed. Throws Stopped when `stop` is
  // requested first.
  void wait_while_paused(std::stop_token stop) const {
    std::unique_lock lock(mutex_);
    if (!changed_.wait(lock, stop, [this] { return !paused_; })) throw Stopped();
  }
  // `wake` is called on every pause and resume until it is replaced (nullptr: none): lets a
  // wait on something else (the idle inbox watch) end when the service is paused.
  void set_waker(std::function<void()> wake) const {
    std::lock_guard lock(mutex_);
    waker_ = std::move(wake);
  }

 private:
  void set(bool paused) {
    std::lock_guard lock(mutex_);
    paused_ = paused;
    changed_.notify_all();
    if (waker_) waker_();
  }

  mutable std::mutex mutex_;
  mutable std::condition_variable_any changed_;
  bool paused_ = false;
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
  void report(const Progress& progress) const {
    if (on_progress) on_progress(progress);
  }
};

}  // namespace tandem::trainer
