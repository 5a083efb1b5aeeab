#include "common/trainer_status.h"

#include <algorithm>
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
          {"server_url", s.server_url}};
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
  return s;
}

}  // namespace tandem
