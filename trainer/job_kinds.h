// Runs a job by its kind: job_kinds.cpp is the one place that includes every kind's runner
// (trainer/<kind>/); a kind added to spool::JobKind does not compile there until it has one.
#pragma once

#include "trainer/job_context.h"

namespace tandem::trainer {

// Runs context.job by its kind's run_job; it ends as job_context.h says.
void run_by_kind(const JobContext& context);

}  // namespace tandem::trainer
