// The trainer's status, changed by the job thread and read by the pipe's threads, pushed to a
// slower sink (the registry) from a thread of its own: at most one write per `interval`, always
// the latest values, so progress on a fast job never turns into a registry write per item; a
// new state or phase is written at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "trainer/status.h"

namespace tandem::trainer {

class StatusBoard {
 public:
  using Sink = std::function<void(const TrainerStatus&)>;

  explicit StatusBoard(TrainerStatus initial,
                       std::chrono::milliseconds interval = std::chrono::milliseconds(250));
  // close()s.
  ~StatusBoard();
  StatusBoard(const StatusBoard&) = delete;
  StatusBoard& operator=(const StatusBoard&) = delete;

  // Starts pushing to `sink` (once); the current values go first. A throwing sink is logged
  // once per distinct message and never stops the job.
  void attach(Sink sink);
  void update(const std::function<void(TrainerStatus&)>& change);
  TrainerStatus current() const;
  // Writes the current values now, on the caller's thread (state changes a reader must see
  // before the service reports them, e.g. stopped).
  void flush();
  // Stops pushing: writes the final values, then lets go of the sink (which may then go away).
  // Idempotent.
  void close();

 private:
  void pump(std::stop_token stop);
  void write(const TrainerStatus& status);

  mutable std::mutex mutex_;
  std::condition_variable_any changed_;
  TrainerStatus status_;
  std::uint64_t version_ = 0;
  std::uint64_t written_ = 0;
  bool new_phase_ = false;  // state or phase changed since the last write: written at once
  std::chrono::milliseconds interval_;
  std::mutex sink_mutex_;
  Sink sink_;
  std::string last_sink_error_;
  std::jthread pump_;
};

}  // namespace tandem::trainer
