#include "trainer/distill/distill_job.h"

#include <algorithm>
#include <sstream>

#include "common/files.h"
#include "common/log.h"
#include "trainer/distill/dataset.h"
#include "trainer/distill/metrics.h"
#include "trainer/distill/student.h"
#include "trainer/distill/teacher_label.h"

namespace tandem::trainer {
namespace {

using distill::DatasetItem;

// How many bad lines a failure reason lists; the count covers all of them.
constexpr std::size_t kListedBadLines = 20;

std::vector<DatasetItem> load_items(const spool::DistillSpec& job) {
  distill::Dataset data =
      distill::read_dataset(job.dataset, job.labels, distill::BadLinePolicy::collect);
  if (data.error_count > 0) {
    std::ostringstream why;
    why << data.error_count << " bad line" << (data.error_count == 1 ? "" : "s")
        << "; nothing was labelled:";
    for (std::size_t i = 0; i < data.errors.size() && i < kListedBadLines; ++i) {
      why << "\n  " << data.errors[i].message;
    }
    if (data.error_count > kListedBadLines) {
      why << "\n  ... and " << data.error_count - kListedBadLines << " more";
    }
    throw InputError(path_utf8(job.dataset), why.str());
  }
  if (data.items.empty()) throw InputError(path_utf8(job.dataset), "the dataset has no items");
  if (job.max_items && static_cast<std::size_t>(*job.max_items) < data.items.size()) {
    data.items.resize(static_cast<std::size_t>(*job.max_items));
  }
  return std::move(data.items);
}

std::size_t recorded_label(const Checkpoint& checkpoint, const DatasetItem& item,
                           std::size_t label_count) {
  const nlohmann::json* result = checkpoint.result(item.id);
  if (result == nullptr || !result->contains("label") || !(*result)["label"].is_number_unsigned() ||
      (*result)["label"].get<std::size_t>() >= label_count) {
    throw Error("the checkpoint in " + path_utf8(checkpoint.folder()) +
                " has no usable label for '" + item.id + "'");
  }
  return (*result)["label"].get<std::size_t>();
}

void label_items(const spool::DistillSpec& job, const std::vector<DatasetItem>& items,
                 Checkpoint& checkpoint, Teacher& teacher, const JobControl& control) {
  const auto total = static_cast<std::int64_t>(items.size());
  if (checkpoint.done_count() > 0) {
    TLOG(info) << "resuming: " << checkpoint.done_count() << " of " << total
               << " items already labelled";
  }
  control.report({"label", static_cast<std::int64_t>(checkpoint.done_count()), total});
  for (const DatasetItem& item : items) {
    if (checkpoint.is_done(item.id)) continue;
    control.checkpoint_boundary();
    const std::string prompt = distill::build_prompt(job.prompt_template, item.text, job.labels);
    std::vector<double> scores;
    try {
      scores = teacher.score_labels(job.model, prompt, job.labels, control.stop);
    } catch (const Stopped&) {
      throw;
    } catch (const ServerUnavailable&) {
      throw;  // not this item's fault: the job waits for the server
    } catch (const Error& e) {
      throw Error("item '" + item.id + "' (line " + std::to_string(item.line) + "): " + e.what());
    }
    const distill::TeacherChoice choice = distill::choose_teacher_label(scores);
    checkpoint.record(item.id, {{"label", choice.index}, {"confidence", choice.confidence}});
    control.report({"label", static_cast<std::int64_t>(checkpoint.done_count()), total});
  }
}

void write_labels(const std::filesystem::path& file, const spool::DistillSpec& job,
                  const std::vector<DatasetItem>& items, const std::vector<std::size_t>& teacher,
                  const Checkpoint& checkpoint) {
  std::string text;
  for (std::size_t i = 0; i < items.size(); ++i) {
    nlohmann::json line = {{"id", items[i].id},
                           {"label", job.labels[teacher[i]]},
                           {"confidence", (*checkpoint.result(items[i].id))["confidence"]}};
    if (items[i].gold_label) line["gold"] = *items[i].gold_label;
    text += line.dump() + "\n";
  }
  write_file_atomically(file, text);
}

}  // namespace

void run_distill_job(const spool::DistillSpec& job, const std::filesystem::path& work_dir,
                     Checkpoint& checkpoint, Teacher& teacher, const JobControl& control) {
  const std::vector<DatasetItem> items = load_items(job);
  if (checkpoint.phase().empty()) checkpoint.set_phase("label");
  label_items(job, items, checkpoint, teacher, control);

  // Training is deterministic and quick next to labelling, so it is not checkpointed: after a
  // crash it runs again from the recorded labels and gives the same student.
  control.checkpoint_boundary();
  if (checkpoint.phase() != "train") checkpoint.set_phase("train");
  const auto total = static_cast<std::int64_t>(items.size());
  control.report({"train", 0, job.epochs});

  std::vector<std::string> ids;
  std::vector<std::size_t> teacher_labels;
  for (const DatasetItem& item : items) {
    ids.push_back(item.id);
    teacher_labels.push_back(recorded_label(checkpoint, item, job.labels.size()));
  }
  const distill::Split split = distill::split_by_id(ids, job.holdout_fraction);
  std::vector<distill::LabelledText> examples;
  for (std::size_t i : split.train) examples.push_back({items[i].text, teacher_labels[i]});
  if (examples.empty()) {
    throw InputError(path_utf8(job.dataset), "all " + std::to_string(total) +
                                                 " items fell into the held-out split; lower "
                                                 "holdout_fraction");
  }

  distill::TrainOptions options;
  options.learning_rate = job.learning_rate;
  options.epochs = job.epochs;
  options.seed = job.seed;
  std::vector<double> epoch_loss;
  distill::Student student = [&] {
    try {
      return distill::train_student(
          job.labels, examples, options,
          [&](int epoch, double loss) {
            epoch_loss.push_back(loss);
            TLOG(info) << "epoch " << epoch << "/" << job.epochs << ": loss " << loss;
            control.report({"train", epoch, job.epochs});
          },
          control.stop);
    } catch (const distill::TrainingStopped&) {
      throw Stopped();
    }
  }();

  std::vector<distill::EvaluationItem> evaluation;
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::optional<std::size_t> gold;
    if (items[i].gold_label) {
      auto it = std::find(job.labels.begin(), job.labels.end(), *items[i].gold_label);
      gold = static_cast<std::size_t>(it - job.labels.begin());
    }
    evaluation.push_back({items[i].text, teacher_labels[i], gold});
  }
  distill::Metrics metrics =
      distill::evaluate(student, evaluation, split, job.holdout_fraction, job.min_agreement);
  student.set_answer_threshold(metrics.answer_threshold);
  metrics.epoch_loss = epoch_loss;

  write_labels(work_dir / kLabelsFile, job, items, teacher_labels, checkpoint);
  student.save(work_dir / kStudentFile);
  distill::write_metrics(work_dir / kMetricsFile, metrics);
  TLOG(info) << "distill done: " << total << " items, " << split.holdout.size() << " held out"
             << (metrics.teacher_agreement
                     ? ", teacher agreement " + std::to_string(*metrics.teacher_agreement)
                     : std::string());
}

void run_job(const spool::DistillSpec& spec, const JobContext& context) {
  run_distill_job(spec, context.job.work_dir, context.checkpoint, context.teacher, context.control);
}

}  // namespace tandem::trainer
