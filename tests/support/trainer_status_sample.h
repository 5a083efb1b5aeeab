// A trainer at work, every field set: for the status codec's and the status pipe's tests.
#pragma once

#include "common/trainer_status.h"

namespace tandem::testing {

inline TrainerStatus sample_trainer_status() {
  TrainerStatus s;
  s.state = "working";
  s.pid = 42;
  s.instance_id = "abc";
  s.started_at = "2024-05-01T10:00:00Z";
  s.pipe_name = "\\\\.\\pipe\\tandem-trainer";
  s.job = "demo-1234abcd";
  s.job_kind = "distill";
  s.phase = "label";
  s.items_done = 7;
  s.items_total = 300;
  s.jobs_done = 2;
  s.jobs_failed = 1;
  s.last_error = "job x: dataset line 3: field 'text' is missing";
  s.server_url = "http://127.0.0.1:8031";
  return s;
}

}  // namespace tandem::testing
