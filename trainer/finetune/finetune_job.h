// The `finetune` job: full fine-tuning of the language model on a text dataset with
// llama.cpp's training API, checkpointed so that a stop or a kill loses no saved step.
//
// Steps: the dataset is tokenized and cut into windows of context_length tokens
// (token_windows.h); one step is one optimiser update on one training window, in an order
// fixed by (seed, epoch). Checkpoint (the job's Checkpoint, plus one weights file):
//   item "baseline"   {"val_loss": x|null}: the base model on the validation windows
//   item "step-<S>"   written after weights-<S>.gguf is in place: {"step": S, "weights": file,
//                     "losses": [loss of each step since the previous record], and at an epoch's
//                     end "epoch": e, "train_loss", "val_loss"}
//   item "finished"   the outputs are written; a resumed job only returns
// A record is made every checkpoint_every steps, at each epoch's end, and before a pause
// holds or a stop returns. After a kill the job resumes from the last record's weights: the
// steps after it (at most checkpoint_every - 1, plus the one in flight) run again.
// The optimiser's state (AdamW's moments, and buffers that change even plain SGD's next
// updates: measured in finetune_job_test) lives inside ggml's optimiser context, which llama.h
// neither reads nor writes: it restarts fresh at a resume, so the steps after one follow a
// slightly different curve from an uninterrupted run's, from exactly the saved weights.
//
// Outputs in the work folder: <output_model> (also written into output_dir when the job names
// one) and metrics.json.
#pragma once

#include "common/spool/finetune_spec.h"
#include "trainer/job_context.h"

namespace tandem::trainer {

inline constexpr const char* kFinetuneMetricsFile = "metrics.json";

// The service's runner for this kind (job_context.h).
void run_job(const spool::FinetuneSpec& spec, const JobContext& context);

}  // namespace tandem::trainer
