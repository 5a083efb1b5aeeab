#include "trainer/checkpoint/checkpoint.h"

#include <algorithm>

#include "common/error.h"
#include "common/files.h"
#include "common/log.h"

namespace tandem::trainer {
namespace fs = std::filesystem;

Checkpoint::Checkpoint(spool::FileSystem& file_system, fs::path folder, std::string job_id,
                       CheckpointOptions options)
    : fs_(file_system),
      folder_(std::move(folder)),
      snapshot_(folder_ / kSnapshotName),
      journal_(folder_ / kJournalName),
      options_(options),
      state_(std::move(job_id)) {
  fs_.create_directories(folder_);
  load();
  next_compaction_ = std::max(options_.compact_min_lines, done_count());
}

void Checkpoint::load() {
  // A snapshot write that never reached its rename; the snapshot beside it is whole.
  fs::path temp = snapshot_;
  temp += ".tmp";
  fs_.remove(temp);

  auto snapshot = fs_.read_if_exists(snapshot_);
  auto journal = fs_.read_if_exists(journal_);
  if (!snapshot) {
    // The snapshot is written before the first journal line, so a journal alone means the
    // snapshot was lost: starting over would repeat every item in it.
    if (journal && !journal->empty()) {
      throw Error("corrupt checkpoint: " + path_utf8(journal_) + " has no " + kSnapshotName +
                  " beside it");
    }
    fs_.write_atomically(snapshot_, state_.snapshot_text());  // records whose checkpoint it is
    return;
  }
  const std::string expected = state_.job_id();
  state_ = CheckpointState::from_snapshot(path_utf8(snapshot_), *snapshot);
  if (state_.job_id() != expected) {
    throw Error(path_utf8(snapshot_) + " is the checkpoint of job '" + state_.job_id() +
                "', not of job '" + expected + "'");
  }
  if (!journal) return;
  auto replay = state_.replay(path_utf8(journal_), *journal);
  journal_bytes_ = replay.good_bytes;
  journal_lines_ = replay.lines;
  dropped_bytes_ = replay.dropped_bytes;
  if (dropped_bytes_ > 0) {
    TLOG(warning) << "checkpoint " << path_utf8(journal_) << ": dropped " << dropped_bytes_
                  << " bytes of an unfinished last line (the entry being written at a crash)";
    // Later lines must not be glued onto the torn one.
    fs_.truncate(journal_, journal_bytes_);
  }
}

void Checkpoint::append(const std::string& line) {
  if (torn_tail_) {
    if (journal_bytes_ == 0) {
      fs_.remove(journal_);
    } else {
      fs_.truncate(journal_, journal_bytes_);
    }
    torn_tail_ = false;
  }
  try {
    fs_.append(journal_, line);
  } catch (const Error&) {
    torn_tail_ = true;
    throw;
  }
  journal_bytes_ += line.size();
  ++journal_lines_;
}

bool Checkpoint::record(const std::string& id, const nlohmann::json& result) {
  if (is_done(id)) return false;
  std::string line = state_.item_line(id, result);
  append(line);
  state_.apply(line);
  compact_if_due();
  return true;
}

std::vector<std::string> Checkpoint::done_ids() const {
  std::vector<std::string> ids;
  ids.reserve(state_.items().size());
  for (const auto& item : state_.items()) ids.push_back(item.first);
  return ids;
}

void Checkpoint::set_phase(const std::string& phase) {
  if (phase == state_.phase()) return;
  std::string line = state_.phase_line(phase);
  append(line);
  state_.apply(line);
  compact_if_due();
}

std::int64_t Checkpoint::counter(const std::string& name) const {
  auto it = state_.counters().find(name);
  return it == state_.counters().end() ? 0 : it->second;
}

void Checkpoint::set_counter(const std::string& name, std::int64_t value) {
  auto it = state_.counters().find(name);
  if (it != state_.counters().end() && it->second == value) return;
  std::string line = state_.counter_line(name, value);
  append(line);
  state_.apply(line);
  compact_if_due();
}

void Checkpoint::compact() {
  fs_.write_atomically(snapshot_, state_.snapshot_text());
  next_compaction_ = journal_lines_ + options_.compact_min_lines;
  try {
    // Should this fail, the journal's lines are all in the snapshot now and load skips them
    // by their sequence numbers; new lines follow them as usual.
    fs_.remove(journal_);
  } catch (const Error& e) {
    TLOG(warning) << "checkpoint journal not emptied after a snapshot: " << e.what();
    return;
  }
  journal_bytes_ = 0;
  journal_lines_ = 0;
  torn_tail_ = false;
  next_compaction_ = std::max(options_.compact_min_lines, done_count());
}

void Checkpoint::compact_if_due() {
  if (journal_lines_ < next_compaction_) return;
  try {
    compact();
  } catch (const Error& e) {
    // The change is safe in the journal already; try again after some more.
    TLOG(warning) << "checkpoint snapshot not written (the journal keeps every change): "
                  << e.what();
    next_compaction_ = journal_lines_ + options_.compact_min_lines;
  }
}

}  // namespace tandem::trainer
