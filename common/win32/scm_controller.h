// ServiceController over the Windows Service Control Manager (common/win32/scm.h).
#pragma once

#include "common/service_controller.h"
#include "common/win32/scm.h"

namespace tandem::win32 {

class ScmServiceManager final : public ServiceManager {
 public:
  // Connects to the SCM (Win32Error when it refuses).
  ScmServiceManager();
  std::unique_ptr<ServiceController> open(const std::string& name, Access access) override;

 private:
  ScManager scm_;
};

}  // namespace tandem::win32
