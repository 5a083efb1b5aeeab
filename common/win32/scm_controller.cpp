#include "common/win32/scm_controller.h"

#include <utility>

#include "common/win32/error.h"

namespace tandem::win32 {
namespace {

constexpr DWORD kControlAccess = SERVICE_QUERY_STATUS | SERVICE_QUERY_CONFIG | SERVICE_START |
                                 SERVICE_STOP | SERVICE_PAUSE_CONTINUE;

ServiceInfo portable(const ServiceStatusInfo& s) {
  ServiceInfo info{s.state, s.pid, 0};
  // A service that was never started, or stopped cleanly, has no exit code worth showing.
  if (s.state == ServiceRunState::stopped && s.win32_exit_code != 0 &&
      s.win32_exit_code != ERROR_SERVICE_NEVER_STARTED) {
    info.exit_code =
        s.win32_exit_code == ERROR_SERVICE_SPECIFIC_ERROR ? s.service_exit_code : s.win32_exit_code;
  }
  return info;
}

class ScmController final : public ServiceController {
 public:
  ScmController(const ScManager& scm, Service service) : scm_(scm), service_(std::move(service)) {}

  const std::string& name() const override { return service_.name(); }
  ServiceInfo query() override { return portable(service_.query()); }

  void start(std::chrono::milliseconds timeout) override {
    try {
      // Wine's SCM does not start dependencies itself; Windows' would.
      service_.start_with_dependencies(scm_, timeout);
    } catch (const Win32Error& e) {
      if (e.code() != ERROR_SERVICE_ALREADY_RUNNING) throw;
    }
  }

  void stop() override {
    try {
      service_.stop();
    } catch (const Win32Error& e) {
      if (e.code() != ERROR_SERVICE_NOT_ACTIVE) throw;
    }
  }

  void resume() override { service_.resume(); }

  ServiceInfo wait_for_state(ServiceRunState target, std::chrono::milliseconds timeout) override {
    return portable(service_.wait_for_state(target, timeout));
  }

 private:
  const ScManager& scm_;
  Service service_;
};

}  // namespace

ScmServiceManager::ScmServiceManager() : scm_(ScManager::open()) {}

std::unique_ptr<ServiceController> ScmServiceManager::open(const std::string& name, Access access) {
  auto service = Service::try_open(
      scm_, name, access == Access::control ? kControlAccess : SERVICE_QUERY_STATUS);
  if (!service) return nullptr;
  return std::make_unique<ScmController>(scm_, std::move(*service));
}

}  // namespace tandem::win32
