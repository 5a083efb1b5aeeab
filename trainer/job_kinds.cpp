#include "trainer/job_kinds.h"

#include <variant>

#include "trainer/command/command_job.h"
#include "trainer/distill/distill_job.h"
#include "trainer/finetune/finetune_job.h"

namespace tandem::trainer {

void run_by_kind(const JobContext& context) {
  std::visit([&context](const auto& spec) { run_job(spec, context); }, context.job.spec.kind);
}

}  // namespace tandem::trainer
