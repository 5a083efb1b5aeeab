#include "trainer/status.h"

#include <algorithm>
#include <limits>

#include "common/discovery/endpoint.h"
#include "common/discovery/protocol.h"

namespace tandem::trainer {
namespace {

std::uint32_t dword(std::int64_t value) {
  return static_cast<std::uint32_t>(
      std::clamp<std::int64_t>(value, 0, std::numeric_limits<std::uint32_t>::max()));
}

}  // namespace

nlohmann::json status_json(const TrainerStatus& s) {
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

StatusValues status_registry_values(const TrainerStatus& s) {
  return {{"Pid", s.pid},
          {"InstanceId", s.instance_id},
          {"StartedAt", s.started_at},
          {"PipeName", s.pipe_name},
          {"ProtocolVersion", static_cast<std::uint32_t>(discovery::kProtocolVersion)},
          {"Job", s.job},
          {"JobKind", s.job_kind},
          {"Phase", s.phase},
          {"ItemsDone", dword(s.items_done)},
          {"ItemsTotal", dword(s.items_total)},
          {"JobsDone", dword(s.jobs_done)},
          {"JobsFailed", dword(s.jobs_failed)},
          {"LastError", s.last_error},
          {"ServerUrl", s.server_url},
          {"State", s.state}};
}

std::string answer_status_request(const TrainerStatus& status, std::string_view message) {
  try {
    const discovery::Request request = discovery::parse_request(message);
    if (request.op != discovery::Op::status) {
      return discovery::encode_error(discovery::kBadRequest,
                                     "field 'op': the trainer's pipe answers only \"status\"");
    }
    nlohmann::json answer = {{"v", discovery::kProtocolVersion}, {"ok", true}};
    answer.update(status_json(status));
    return answer.dump();
  } catch (const discovery::ProtocolError& e) {
    return discovery::encode_error(e.code(), e.what());
  }
}

}  // namespace tandem::trainer
