#include "common/service_controller.h"

namespace tandem {

std::string_view to_string(ServiceRunState state) {
  switch (state) {
    case ServiceRunState::stopped:
      return "stopped";
    case ServiceRunState::start_pending:
      return "start pending";
    case ServiceRunState::stop_pending:
      return "stop pending";
    case ServiceRunState::running:
      return "running";
    case ServiceRunState::continue_pending:
      return "continue pending";
    case ServiceRunState::pause_pending:
      return "pause pending";
    case ServiceRunState::paused:
      return "paused";
  }
  return "unknown";
}

}  // namespace tandem
