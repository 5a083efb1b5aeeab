// What a checkpoint holds and how it is written down: a snapshot (one JSON file) plus a journal
// of changes made since (one JSON line per change, each carrying the next sequence number).
// Pure data and text; the file handling and crash rules are in checkpoint.h.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace tandem::trainer {

class CheckpointState {
 public:
  explicit CheckpointState(std::string job_id = {}) : job_id_(std::move(job_id)) {}

  // Parses a snapshot; throws tandem::Error naming `origin` when it is not one.
  static CheckpointState from_snapshot(const std::string& origin, std::string_view text);
  std::string snapshot_text() const;

  // How much of a journal was applied.
  struct Replay {
    std::size_t good_bytes = 0;     // length of the complete lines
    std::size_t lines = 0;          // complete lines, including ones the snapshot already held
    std::size_t dropped_bytes = 0;  // a torn last line (no newline): never acknowledged
  };
  // Applies the complete lines of `text` whose sequence number is past this state's; a bad
  // complete line or a gap in the numbers throws tandem::Error naming origin:line.
  Replay replay(const std::string& origin, std::string_view text);

  // Journal lines for the next change (sequence number seq() + 1); `apply` them once written.
  std::string item_line(const std::string& id, const nlohmann::json& result) const;
  std::string phase_line(const std::string& phase) const;
  std::string counter_line(const std::string& name, std::int64_t value) const;
  void apply(const std::string& line);

  const std::string& job_id() const { return job_id_; }
  std::uint64_t seq() const { return seq_; }
  const std::string& phase() const { return phase_; }
  const std::map<std::string, std::int64_t>& counters() const { return counters_; }
  const std::vector<std::pair<std::string, nlohmann::json>>& items() const { return items_; }
  const nlohmann::json* result(const std::string& id) const;

 private:
  // Applies one change; `where` names it in errors.
  void apply_change(const nlohmann::json& change, const std::string& where);
  void add_item(const std::string& id, nlohmann::json result, const std::string& where);
  std::string line(nlohmann::json change) const;

  std::string job_id_;
  std::uint64_t seq_ = 0;
  std::string phase_;
  std::map<std::string, std::int64_t> counters_;
  std::vector<std::pair<std::string, nlohmann::json>> items_;  // in the order recorded
  std::map<std::string, std::size_t, std::less<>> index_;      // id -> position in items_
};

}  // namespace tandem::trainer
