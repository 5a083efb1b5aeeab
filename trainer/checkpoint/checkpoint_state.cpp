#include "trainer/checkpoint/checkpoint_state.h"

#include "common/error.h"
#include "common/json_source.h"

namespace tandem::trainer {
namespace {

constexpr int kFormat = 1;

[[noreturn]] void corrupt(const std::string& where, const std::string& what) {
  throw Error("corrupt checkpoint: " + where + ": " + what);
}

std::string dump(const nlohmann::json& value) {
  try {
    return value.dump();
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("cannot write a checkpoint entry: ") + e.what());
  }
}

// The member `key`, or null when absent (nlohmann's value() throws on a mistyped one).
const nlohmann::json& member(const nlohmann::json& object, const char* key) {
  static const nlohmann::json null;
  auto it = object.find(key);
  return it == object.end() ? null : *it;
}

}  // namespace

CheckpointState CheckpointState::from_snapshot(const std::string& origin, std::string_view text) {
  nlohmann::json root;
  try {
    root = JsonSource(origin, text).root();
  } catch (const InputError& e) {
    throw Error(std::string("corrupt checkpoint: ") + e.what());
  }
  if (!root.is_object()) corrupt(origin, "not a JSON object");
  if (member(root, "format") != kFormat) corrupt(origin, "unknown format (expected 1)");
  const auto& id = member(root, "job_id");
  const auto& seq = member(root, "seq");
  const auto& phase = member(root, "phase");
  const auto& counters = member(root, "counters");
  const auto& items = member(root, "items");
  if (!id.is_string() || !seq.is_number_unsigned() || !phase.is_string() || !counters.is_object() ||
      !items.is_array()) {
    corrupt(origin, "missing or mistyped job_id, seq, phase, counters or items");
  }
  CheckpointState state(id.get<std::string>());
  state.seq_ = seq.get<std::uint64_t>();
  state.phase_ = phase.get<std::string>();
  for (const auto& [name, value] : counters.items()) {
    if (!value.is_number_integer()) corrupt(origin, "counter '" + name + "' is not an integer");
    state.counters_[name] = value.get<std::int64_t>();
  }
  for (const auto& item : items) {
    if (!item.is_object() || !item.contains("id") || !item["id"].is_string() ||
        !item.contains("result")) {
      corrupt(origin, "an item without a string id and a result: " + item.dump());
    }
    state.add_item(item["id"].get<std::string>(), item["result"], origin);
  }
  return state;
}

std::string CheckpointState::snapshot_text() const {
  // One item per line, so a person can read (and diff) a checkpoint.
  std::string out = "{\"format\":" + std::to_string(kFormat) + ",\"job_id\":" + dump(job_id_) +
                    ",\"seq\":" + std::to_string(seq_) + ",\"phase\":" + dump(phase_) +
                    ",\"counters\":" + dump(counters_) + ",\n\"items\":[";
  const char* separator = "\n";
  for (const auto& [id, result] : items_) {
    out += separator;
    out += dump({{"id", id}, {"result", result}});
    separator = ",\n";
  }
  out += "\n]}\n";
  return out;
}

CheckpointState::Replay CheckpointState::replay(const std::string& origin, std::string_view text) {
  Replay r;
  bool applied = false;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t newline = text.find('\n', pos);
    if (newline == std::string_view::npos) {
      r.dropped_bytes = text.size() - pos;  // the write in flight when the process died
      break;
    }
    ++r.lines;
    const std::string where = origin + ":" + std::to_string(r.lines);
    auto change = nlohmann::json::parse(text.substr(pos, newline - pos), nullptr, false);
    if (change.is_discarded() || !change.is_object()) corrupt(where, "not a JSON object");
    const auto& seq = member(change, "seq");
    if (!seq.is_number_unsigned()) corrupt(where, "no sequence number");
    auto n = seq.get<std::uint64_t>();
    // Lines the snapshot already holds precede the rest (compaction stopped before emptying
    // the journal); after them the numbers must run on without a gap.
    if (!(n <= seq_ && !applied)) {
      if (n != seq_ + 1) {
        corrupt(where, "sequence number " + std::to_string(n) + " where " +
                           std::to_string(seq_ + 1) + " was expected");
      }
      apply_change(change, where);
      applied = true;
    }
    pos = newline + 1;
    r.good_bytes = pos;
  }
  return r;
}

std::string CheckpointState::line(nlohmann::json change) const {
  change["seq"] = seq_ + 1;
  return dump(change) + "\n";
}

std::string CheckpointState::item_line(const std::string& id, const nlohmann::json& result) const {
  return line({{"done", id}, {"result", result}});
}

std::string CheckpointState::phase_line(const std::string& phase) const {
  return line({{"phase", phase}});
}

std::string CheckpointState::counter_line(const std::string& name, std::int64_t value) const {
  return line({{"counter", name}, {"value", value}});
}

void CheckpointState::apply(const std::string& text) {
  apply_change(nlohmann::json::parse(text), "new entry");
}

void CheckpointState::apply_change(const nlohmann::json& change, const std::string& where) {
  if (auto it = change.find("done"); it != change.end()) {
    if (!it->is_string() || !change.contains("result")) corrupt(where, "bad item entry");
    add_item(it->get<std::string>(), change["result"], where);
  } else if (auto p = change.find("phase"); p != change.end()) {
    if (!p->is_string()) corrupt(where, "bad phase entry");
    phase_ = p->get<std::string>();
  } else if (auto c = change.find("counter"); c != change.end()) {
    auto v = change.find("value");
    if (!c->is_string() || v == change.end() || !v->is_number_integer()) {
      corrupt(where, "bad counter entry");
    }
    counters_[c->get<std::string>()] = v->get<std::int64_t>();
  } else {
    corrupt(where, "unknown entry");
  }
  seq_ = change["seq"].get<std::uint64_t>();
}

void CheckpointState::add_item(const std::string& id, nlohmann::json result,
                               const std::string& where) {
  // Checkpoint::record never writes an id twice, so a repeat means the files were tampered with.
  if (index_.count(id)) corrupt(where, "item '" + id + "' recorded twice");
  index_.emplace(id, items_.size());
  items_.emplace_back(id, std::move(result));
}

const nlohmann::json* CheckpointState::result(const std::string& id) const {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : &items_[it->second].second;
}

}  // namespace tandem::trainer
