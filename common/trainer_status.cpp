#include "common/trainer_status.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "common/discovery/protocol.h"
#include "common/error.h"
#include "common/json_fields.h"
#include "common/json_source.h"

namespace tandem {
namespace {

// The value names, spelled once for writing and reading.
constexpr const char* kPid = "Pid";
constexpr const char* kInstanceId = "InstanceId";
constexpr const char* kStartedAt = "StartedAt";
constexpr const char* kPipeName = "PipeName";
constexpr const char* kProtocolVersion = "ProtocolVersion";
constexpr const char* kJob = "Job";
constexpr const char* kJobKind = "JobKind";
constexpr const char* kPhase = "Phase";
constexpr const char* kItemsDone = "ItemsDone";
constexpr const char* kItemsTotal = "ItemsTotal";
constexpr const char* kJobsDone = "JobsDone";
constexpr const char* kJobsFailed = "JobsFailed";
constexpr const char* kLastError = "LastError";
constexpr const char* kServerUrl = "ServerUrl";
constexpr const char* kState = "State";
constexpr const char* kEpoch = "Epoch";
constexpr const char* kEpochs = "Epochs";
constexpr const char* kTrainLoss = "TrainLoss";
constexpr const char* kValLoss = "ValLoss";
constexpr const char* kTokensPerSecond = "TokensPerSecond";
constexpr const char* kEtaSeconds = "EtaSeconds";

// A figure as REG_SZ (the registry has no floating type): empty when absent.
std::string figure_text(const std::optional<double>& v) {
  if (!v) return {};
  nlohmann::json j = *v;
  return j.dump();
}
std::optional<double> figure_from_text(const std::optional<std::string>& text) {
  if (!text || text->empty()) return std::nullopt;
  try {
    return std::stod(*text);
  } catch (const std::exception&) {
    return std::nullopt;  // answers are read tolerantly
  }
}
nlohmann::json figure_json(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

std::string rounded(double v, int decimals) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.*f", decimals, v);
  return text;
}

std::uint32_t dword(std::int64_t value) {
  return static_cast<std::uint32_t>(
      std::clamp<std::int64_t>(value, 0, std::numeric_limits<std::uint32_t>::max()));
}

}  // namespace

StatusValues trainer_status_values(const TrainerStatus& s) {
  return {{kPid, s.pid},
          {kInstanceId, s.instance_id},
          {kStartedAt, s.started_at},
          {kPipeName, s.pipe_name},
          {kProtocolVersion, static_cast<std::uint32_t>(discovery::kProtocolVersion)},
          {kJob, s.job},
          {kJobKind, s.job_kind},
          {kPhase, s.phase},
          {kItemsDone, dword(s.items_done)},
          {kItemsTotal, dword(s.items_total)},
          {kJobsDone, dword(s.jobs_done)},
          {kJobsFailed, dword(s.jobs_failed)},
          {kLastError, s.last_error},
          {kServerUrl, s.server_url},
          {kEpoch, dword(s.training.epoch)},
          {kEpochs, dword(s.training.epochs)},
          {kTrainLoss, figure_text(s.training.train_loss)},
          {kValLoss, figure_text(s.training.val_loss)},
          {kTokensPerSecond, figure_text(s.training.tokens_per_s)},
          {kEtaSeconds, figure_text(s.training.eta_s)},
          {kState, s.state}};
}

TrainerStatus read_trainer_status_values(const discovery::ValueStore& v) {
  TrainerStatus s;
  s.state = v.get_string(kState).value_or("");
  s.pid = v.get_dword(kPid).value_or(0);
  s.instance_id = v.get_string(kInstanceId).value_or("");
  s.started_at = v.get_string(kStartedAt).value_or("");
  s.pipe_name = v.get_string(kPipeName).value_or("");
  s.job = v.get_string(kJob).value_or("");
  s.job_kind = v.get_string(kJobKind).value_or("");
  s.phase = v.get_string(kPhase).value_or("");
  s.items_done = v.get_dword(kItemsDone).value_or(0);
  s.items_total = v.get_dword(kItemsTotal).value_or(0);
  s.jobs_done = v.get_dword(kJobsDone).value_or(0);
  s.jobs_failed = v.get_dword(kJobsFailed).value_or(0);
  s.last_error = v.get_string(kLastError).value_or("");
  s.server_url = v.get_string(kServerUrl).value_or("");
  s.training.epoch = v.get_dword(kEpoch).value_or(0);
  s.training.epochs = v.get_dword(kEpochs).value_or(0);
  s.training.train_loss = figure_from_text(v.get_string(kTrainLoss));
  s.training.val_loss = figure_from_text(v.get_string(kValLoss));
  s.training.tokens_per_s = figure_from_text(v.get_string(kTokensPerSecond));
  s.training.eta_s = figure_from_text(v.get_string(kEtaSeconds));
  return s;
}

nlohmann::json trainer_status_json(const TrainerStatus& s) {
  return {{"state", s.state},
          {"pid", s.pid},
          {"instance", s.instance_id},
          {"started_at", s.started_at},
          {"job", s.job.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.job)},
          {"job_kind", s.job_kind},
          {"phase", s.phase},
          {"items_done", s.items_done},
          {"items_total", s.items_total},
          {"jobs_done", s.jobs_done},
          {"jobs_failed", s.jobs_failed},
          {"last_error", s.last_error},
          {"server_url", s.server_url},
          {"epoch", s.training.epoch},
          {"epochs", s.training.epochs},
          {"train_loss", figure_json(s.training.train_loss)},
          {"val_loss", figure_json(s.training.val_loss)},
          {"tokens_per_s", figure_json(s.training.tokens_per_s)},
          {"eta_s", figure_json(s.training.eta_s)}};
}

TrainerStatus parse_trainer_status_json(const std::string& origin, std::string_view text) {
  const JsonSource source(origin, text);
  if (!source.root().is_object()) {
    throw InputError(source.where(""),
                     "expected a JSON object, got " + json_type_name(source.root()));
  }
  ObjectReader r(source);
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  auto count = [&r](const char* key) { return r.integer(key, 0, kMax).value_or(0); };
  TrainerStatus s;
  s.state = r.string("state").value_or("");
  s.pid = static_cast<std::uint32_t>(
      r.integer("pid", 0, std::numeric_limits<std::uint32_t>::max()).value_or(0));
  s.instance_id = r.string("instance").value_or("");
  s.started_at = r.string("started_at").value_or("");
  // No job is null, as trainer_status_json writes it.
  if (!source.root().contains("job") || !source.root()["job"].is_null()) {
    s.job = r.string("job").value_or("");
  }
  s.job_kind = r.string("job_kind").value_or("");
  s.phase = r.string("phase").value_or("");
  s.items_done = count("items_done");
  s.items_total = count("items_total");
  s.jobs_done = count("jobs_done");
  s.jobs_failed = count("jobs_failed");
  s.last_error = r.string("last_error").value_or("");
  s.server_url = r.string("server_url").value_or("");
  s.training.epoch = count("epoch");
  s.training.epochs = count("epochs");
  auto figure = [&](const char* key) -> std::optional<double> {
    if (!source.root().contains(key) || source.root()[key].is_null()) return std::nullopt;
    return r.number(key, 0, std::numeric_limits<double>::max());
  };
  s.training.train_loss = figure("train_loss");
  s.training.val_loss = figure("val_loss");
  s.training.tokens_per_s = figure("tokens_per_s");
  s.training.eta_s = figure("eta_s");
  return s;
}

std::string describe_training(const TrainingFigures& f) {
  if (f.epochs == 0) return {};
  std::string text = "epoch " + std::to_string(f.epoch) + "/" + std::to_string(f.epochs);
  if (f.train_loss) text += ", loss " + rounded(*f.train_loss, 3);
  if (f.val_loss) text += ", validation " + rounded(*f.val_loss, 3);
  if (f.tokens_per_s) text += ", " + rounded(*f.tokens_per_s, 0) + " tokens/s";
  if (f.eta_s) {
    const auto left = static_cast<std::int64_t>(std::llround(*f.eta_s));
    text += ", " + (left >= 60 ? std::to_string(left / 60) + "m" : std::string()) +
            std::to_string(left % 60) + "s left";
  }
  return text;
}

}  // namespace tandem
