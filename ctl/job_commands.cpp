#include "ctl/commands.h"

namespace tandem::ctl {
int submit_command(Args& args) {
  args.done();
  throw UsageError("not built yet");
}
int jobs_command(Args& args) {
  args.done();
  throw UsageError("not built yet");
}
int logs_command(Args& args) {
  args.done();
  throw UsageError("not built yet");
}
}  // namespace tandem::ctl
