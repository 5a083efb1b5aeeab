#include "ctl/commands.h"

namespace tandem::ctl {
int install_command(Args& args) {
  args.done();
  throw UsageError("not built yet");
}
int uninstall_command(Args& args) {
  args.done();
  throw UsageError("not built yet");
}
int configure_services_command(Args& args) {
  args.done();
  throw UsageError("not built yet");
}
}  // namespace tandem::ctl
