#include "ctl/commands.h"

namespace tandem::ctl {
int start_command(Args& args) {
  args.done();
  throw UsageError("not built yet");
}
int stop_command(Args& args) {
  args.done();
  throw UsageError("not built yet");
}
int restart_command(Args& args) {
  args.done();
  throw UsageError("not built yet");
}
}  // namespace tandem::ctl
