#include "trainer/status_board.h"

#include "common/log.h"

namespace tandem::trainer {

StatusBoard::StatusBoard(TrainerStatus initial, std::chrono::milliseconds interval)
    : status_(std::move(initial)), interval_(interval) {}

StatusBoard::~StatusBoard() {
  close();
}

void StatusBoard::close() {
  if (pump_.joinable()) {
    pump_.request_stop();
    pump_.join();
  }
  flush();
  std::lock_guard lock(sink_mutex_);
  sink_ = nullptr;
}

void StatusBoard::attach(Sink sink) {
  {
    std::lock_guard lock(sink_mutex_);
    sink_ = std::move(sink);
  }
  flush();
  pump_ = std::jthread([this](std::stop_token stop) { pump(stop); });
}

void StatusBoard::update(const std::function<void(TrainerStatus&)>& change) {
  {
    std::lock_guard lock(mutex_);
    const auto state = status_.state, phase = status_.phase;
    change(status_);
    ++version_;
    new_phase_ = new_phase_ || status_.state != state || status_.phase != phase;
  }
  changed_.notify_all();
}

TrainerStatus StatusBoard::current() const {
  std::lock_guard lock(mutex_);
  return status_;
}

void StatusBoard::flush() {
  TrainerStatus snapshot;
  {
    std::lock_guard lock(mutex_);
    snapshot = status_;
    written_ = version_;
  }
  write(snapshot);
}

void StatusBoard::pump(std::stop_token stop) {
  for (;;) {
    TrainerStatus snapshot;
    {
      std::unique_lock lock(mutex_);
      if (!changed_.wait(lock, stop, [this] { return version_ != written_; })) return;
      snapshot = status_;
      written_ = version_;
      new_phase_ = false;
    }
    write(snapshot);
    // Rate limit: changes made meanwhile are written together at the end of the interval; a
    // new state or phase at once, so that a short phase (a job labelled in less than the
    // interval) still shows.
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, stop, interval_, [this] { return new_phase_; });
    if (stop.stop_requested()) return;
  }
}

void StatusBoard::write(const TrainerStatus& status) {
  std::lock_guard lock(sink_mutex_);
  if (!sink_) return;
  try {
    sink_(status);
  } catch (const std::exception& e) {
    if (last_sink_error_ != e.what()) {
      last_sink_error_ = e.what();
      TLOG(warning) << "cannot publish the trainer's status: " << e.what();
    }
  }
}

}  // namespace tandem::trainer
