#include "tray/snapshot_reader.h"

#include <windows.h>

#include "common/error.h"
#include "common/log.h"
#include "common/service_names.h"
#include "common/win32/llm_resolver.h"
#include "common/win32/registry_publication.h"
#include "common/win32/scm.h"
#include "common/win32/trainer_registry.h"

namespace tandem::tray {
namespace {

ServiceInput read_service(const win32::ScManager& scm, const char* name) {
  auto service = win32::Service::try_open(scm, name, SERVICE_QUERY_STATUS);
  if (!service) return {};
  const auto status = service->query();
  const bool stopped = status.state == ServiceRunState::stopped;
  const DWORD exit_code = status.win32_exit_code == ERROR_SERVICE_SPECIFIC_ERROR
                              ? status.service_exit_code
                              : status.win32_exit_code;
  return {status.state, stopped ? 0 : status.pid, stopped ? exit_code : 0};
}

}  // namespace

Snapshot read_snapshot() {
  Snapshot s;
  try {
    auto scm = win32::ScManager::open();
    s.llm = read_service(scm, kLlmServiceName);
    s.trainer = read_service(scm, kTrainerServiceName);
  } catch (const Error& e) {
    s.problem = e.what();
    TLOG(warning) << "reading the services' states: " << e.what();
  }
  try {
    s.publication = win32::read_publication(win32::kLlmServerKey);
  } catch (const Error& e) {
    s.problem = e.what();
  }
  // The pipe and /health checks only make sense for a publication that claims to be ready.
  if (s.publication && s.publication->state == discovery::State::ready) {
    try {
      std::string why;
      auto live = win32::LlmResolver().resolve(why);
      s.verified = live && live->pid == s.llm.pid;
      if (!live) s.problem = why;
    } catch (const Error& e) {
      s.problem = e.what();
    }
  }
  try {
    s.trainer_values = win32::read_trainer_registry();
  } catch (const Error& e) {
    TLOG(warning) << "reading the trainer's status: " << e.what();
  }
  return s;
}

}  // namespace tandem::tray
