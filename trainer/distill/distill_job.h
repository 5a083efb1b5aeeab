// The `distill` job, start to finish: read the dataset, ask the teacher for each item's label
// (each answer checkpointed before the next question, so a crash repeats at most the one in
// flight), train the student on those labels, and write the results into the job's work folder:
//   labels.jsonl   the teacher's label for every item, in dataset order
//   student.json   the student model (tandem-trainer.exe predict MODEL TEXT uses it)
//   metrics.json   per-epoch loss, held-out teacher agreement, gold accuracy where known
#pragma once

#include <filesystem>
#include <string>

#include "common/spool/distill_spec.h"
#include "trainer/checkpoint/checkpoint.h"
#include "trainer/job_context.h"
#include "trainer/job_control.h"
#include "trainer/teacher.h"

namespace tandem::trainer {

inline constexpr const char* kLabelsFile = "labels.jsonl";
inline constexpr const char* kStudentFile = "student.json";
inline constexpr const char* kMetricsFile = "metrics.json";

// Runs (or resumes) the job. Returns normally when the outputs are written. Throws InputError
// for a dataset that cannot be used (every bad line listed with its number, up to a limit),
// Stopped when `control` says stop (the checkpoint keeps every answer recorded so far), and
// Error for a teacher failure (the message names the item).
void run_distill_job(const spool::DistillSpec& job, const std::filesystem::path& work_dir,
                     Checkpoint& checkpoint, Teacher& teacher, const JobControl& control);

// The service's runner for this kind (job_context.h): run_distill_job in the job's work folder.
void run_job(const spool::DistillSpec& spec, const JobContext& context);

}  // namespace tandem::trainer
