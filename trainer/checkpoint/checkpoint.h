// A job's progress on disk, kept so that killing the trainer at any moment loses at most the
// item in flight and never duplicates or drops a finished one.
//
// Two files in the job's work folder: `checkpoint.json`, a snapshot replaced atomically, and
// `items.jsonl`, a journal to which each change is appended as one line and flushed to disk
// before the call returns. A line is acknowledged only once its newline is on disk, so a torn
// last line (the write in flight at a crash) is dropped on load and everything before it kept.
// The journal is folded into the snapshot now and then, so writes stay cheap and loads short.
//
// Not thread-safe: one trainer thread owns a job's checkpoint.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/spool/file_system.h"
#include "trainer/checkpoint/checkpoint_state.h"

namespace tandem::trainer {

struct CheckpointOptions {
  // Fold the journal into the snapshot once it holds this many lines and at least as many as
  // there are items, so the cost of snapshots stays proportional to the items recorded.
  std::size_t compact_min_lines = 256;
};

class Checkpoint {
 public:
  static constexpr const char* kSnapshotName = "checkpoint.json";
  static constexpr const char* kJournalName = "items.jsonl";

  // Opens the checkpoint of job `job_id` in `folder` (created if missing). Nothing there: an
  // empty checkpoint. A corrupt snapshot or journal line, or another job's checkpoint: Error
  // naming the file, never a silent reset. A leftover temporary file is removed.
  Checkpoint(spool::FileSystem& fs, std::filesystem::path folder, std::string job_id,
             CheckpointOptions options = {});

  bool is_done(const std::string& id) const { return state_.result(id) != nullptr; }
  // The result recorded for `id`, or nullptr.
  const nlohmann::json* result(const std::string& id) const { return state_.result(id); }
  // Records `id` as done with `result`, durably, once: true when newly recorded, false when
  // `id` was already done (the first result stays). On Error nothing is recorded and the
  // checkpoint on disk still loads as before; calling again retries.
  bool record(const std::string& id, const nlohmann::json& result);
  std::vector<std::string> done_ids() const;  // in the order recorded
  std::size_t done_count() const { return state_.items().size(); }

  const std::string& phase() const { return state_.phase(); }
  void set_phase(const std::string& phase);
  std::int64_t counter(const std::string& name) const;  // 0 when never set
  const std::map<std::string, std::int64_t>& counters() const { return state_.counters(); }
  void set_counter(const std::string& name, std::int64_t value);

  // Writes the snapshot now and empties the journal. On Error the old files still load.
  void compact();

  // Bytes of a torn last journal line dropped when the checkpoint was opened.
  std::size_t dropped_bytes() const { return dropped_bytes_; }
  const std::filesystem::path& folder() const { return folder_; }

 private:
  void load();
  void append(const std::string& line);
  void compact_if_due();

  spool::FileSystem& fs_;
  std::filesystem::path folder_;
  std::filesystem::path snapshot_;
  std::filesystem::path journal_;
  CheckpointOptions options_;
  CheckpointState state_;
  std::size_t journal_bytes_ = 0;  // length of the acknowledged lines
  std::size_t journal_lines_ = 0;
  std::size_t next_compaction_ = 0;
  bool torn_tail_ = false;  // a failed append may have left bytes past journal_bytes_
  std::size_t dropped_bytes_ = 0;
};

}  // namespace tandem::trainer
