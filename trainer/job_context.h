// What the service hands every kind's runner (trainer/<kind>/), and what a runner's end means:
//   returns                   the job is done; its outputs are in job.work_dir
//   throws Stopped            a stop: the job stays active and resumes at the next start
//   throws ServerUnavailable  the server is not there: the job stays active and waits for it
//   throws WriteError         the disk refused a write: the job stays active and tries again
//   throws anything else      the job failed; the message is its reason
#pragma once

#include "common/error.h"
#include "common/process/process_launcher.h"
#include "common/spool/spool.h"
#include "trainer/checkpoint/checkpoint.h"
#include "trainer/job_control.h"
#include "trainer/llm_access.h"
#include "trainer/teacher.h"

namespace tandem::trainer {

struct JobContext {
  const spool::Job& job;
  Checkpoint& checkpoint;  // the job's, in job.work_dir
  Teacher& teacher;        // the server, asked to score labels
  const EndpointSource& endpoint;
  ProcessLauncher& launcher;
  const JobControl& control;
  std::filesystem::path models_dir = {};  // the server's models folder: models named by id
};

// A job that ended in failure of its own (its program failed, say): the message is the reason.
class JobFailed : public Error {
 public:
  using Error::Error;
};

}  // namespace tandem::trainer
