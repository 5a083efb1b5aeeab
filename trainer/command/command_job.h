// The `command` job: run the user's own training program with the live LLM server's endpoint in
// its environment (job_environment.h), its output logged line by line, and restart it by the
// job's policy, keeping count in the job's checkpoint so a trainer restart resumes the count.
//
// Checkpoint: counter "attempts" is raised (durably) before each start; item "attempt-<n>"
// records how attempt n ended: {"exit_code": c}, plus "stopped": true when the trainer ended
// it on a stop request, or {"error": "..."} when it could not be run. An attempt without a
// record was cut short by a trainer crash. Only exits of the program's own doing count as
// failures: an attempt the trainer stopped or lost is run again when the job resumes.
#pragma once

#include <stop_token>
#include <string>

#include "common/process/process_launcher.h"
#include "common/spool/command_spec.h"
#include "trainer/checkpoint/checkpoint.h"
#include "trainer/command/job_environment.h"
#include "trainer/job_context.h"
#include "trainer/llm_access.h"

namespace tandem::trainer {

struct CommandOutcome {
  bool ok = false;       // the program exited with code 0
  bool stopped = false;  // a stop was requested: the job stays active, to resume at next start
  std::string reason;    // why the job failed, for its reason file; empty unless failed
  bool failed() const { return !ok && !stopped; }
};

// Runs (or resumes) the job to its end. Fails it when the program cannot be started (no
// restart: a missing program stays missing) and when the program exits non-zero with no
// restarts left. On a stop request the program is ended and the outcome is `stopped`.
// `endpoint` is asked before each (re)start, so a restart picks up a new port. Whatever it
// throws reaches the caller with the job still active and no attempt used (the server being
// down is not the job's fault), as does a tandem::Error when the checkpoint cannot be written.
CommandOutcome run_command_job(const std::string& job_name, const spool::CommandSpec& job,
                               const EndpointSource& endpoint, ProcessLauncher& launcher,
                               Checkpoint& checkpoint, std::stop_token stop);

// The service's runner for this kind: run_command_job, its outcome told as job_context.h says
// (a failure as JobFailed with the reason, a stop as Stopped).
void run_job(const spool::CommandSpec& spec, const JobContext& context);

}  // namespace tandem::trainer
