#include "trainer/finetune/finetune_job.h"

#include <chrono>
#include <cmath>
#include <optional>
#include <thread>

#include "common/files.h"
#include "common/llama/llama_backend.h"
#include "common/log.h"
#include "trainer/finetune/llama_training.h"
#include "trainer/finetune/token_windows.h"
#include "trainer/finetune/training_text.h"

namespace tandem::trainer {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kBaseline = "baseline";
constexpr const char* kFinished = "finished";
constexpr const char* kStepPrefix = "step-";
constexpr const char* kWeightsPrefix = "weights-";

// The job's base model: its path, or the server's model it names by id.
fs::path base_model_file(const spool::FinetuneSpec& spec, const fs::path& models_dir) {
  if (spec.base_model_name.empty()) return spec.base_model;
  const fs::path file = models_dir / (spec.base_model_name + ".gguf");
  std::error_code ec;
  if (models_dir.empty() || !fs::is_regular_file(file, ec)) {
    throw JobFailed("base_model '" + spec.base_model_name + "': no " + spec.base_model_name +
                    ".gguf in the models folder " + path_utf8(models_dir));
  }
  return file;
}

std::string weights_name(std::int64_t step) {
  return kWeightsPrefix + std::to_string(step) + ".gguf";
}

struct EpochFigures {
  int epoch = 0;  // 1-based
  double train_loss = 0;
  std::optional<double> val_loss;
};

// What the checkpoint's records say (see finetune_job.h).
struct History {
  std::int64_t step = 0;  // steps done and saved
  std::string weights;    // the last record's weights file; empty: the base model
  std::vector<double> step_loss;
  std::vector<EpochFigures> epochs;
  bool has_baseline = false;
  std::optional<double> baseline_val;
  bool finished = false;
};

std::optional<double> optional_number(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  return j[key].get<double>();
}

History read_history(const Checkpoint& checkpoint) {
  History h;
  for (const std::string& id : checkpoint.done_ids()) {
    const nlohmann::json& r = *checkpoint.result(id);
    try {
      if (id == kBaseline) {
        h.has_baseline = true;
        h.baseline_val = optional_number(r, "val_loss");
      } else if (id == kFinished) {
        h.finished = true;
      } else if (id.rfind(kStepPrefix, 0) == 0) {
        for (const auto& loss : r.at("losses")) h.step_loss.push_back(loss.get<double>());
        h.step = r.at("step").get<std::int64_t>();
        h.weights = r.at("weights").get<std::string>();
        if (r.contains("epoch")) {
          h.epochs.push_back({r["epoch"].get<int>(), r.at("train_loss").get<double>(),
                              optional_number(r, "val_loss")});
        }
        if (static_cast<std::int64_t>(h.step_loss.size()) != h.step) {
          throw Error("its losses do not add up to step " + std::to_string(h.step));
        }
      }
    } catch (const std::exception& e) {
      throw Error("the checkpoint in " + path_utf8(checkpoint.folder()) + " has a bad record '" +
                  id + "': " + e.what());
    }
  }
  return h;
}

double perplexity(double loss) {
  return std::exp(loss);
}

nlohmann::json optional_json(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

int thread_budget(int requested) {
  const unsigned cores = std::thread::hardware_concurrency();
  // Default: half the cores, so the server keeps the other half for inference.
  if (requested <= 0) return std::max(1, static_cast<int>(cores / 2));
  return llama::effective_threads(requested, cores);
}

class FinetuneRun {
 public:
  FinetuneRun(const spool::FinetuneSpec& spec, const JobContext& context)
      : spec_(spec),
        context_(context),
        work_(context.job.work_dir),
        base_model_(base_model_file(spec, context.models_dir)) {}

  void run() {
    history_ = read_history(context_.checkpoint);
    if (history_.finished) {
      TLOG(info) << "finetune " << context_.job.id << ": outputs already written";
      return;
    }
    remove_stray_weights();
    if (history_.step > 0) {
      TLOG(info) << "finetune " << context_.job.id << ": resuming after step " << history_.step
                 << " from " << history_.weights;
    }
    finetune::TrainingOptions options;
    options.context_length = spec_.context_length;
    options.threads = thread_budget(spec_.threads);
    options.learning_rate = spec_.learning_rate;
    options.optimizer = spec_.optimizer == spool::FinetuneOptimizer::sgd
                            ? finetune::Optimizer::sgd
                            : finetune::Optimizer::adamw;
    const fs::path start = history_.weights.empty() ? base_model_ : work_ / history_.weights;
    model_.emplace(start, base_model_, options);
    TLOG(info) << "finetune " << context_.job.id << ": " << options.threads
               << " threads at below-normal priority";

    cut_windows();
    if (!history_.has_baseline) {
      context_.control.report({"evaluate", 0, total_steps(), figures()});
      history_.baseline_val = validate();
      history_.has_baseline = true;
      context_.checkpoint.record(kBaseline, {{"val_loss", optional_json(history_.baseline_val)}});
    }
    train();
    finish();
  }

 private:
  std::int64_t steps_per_epoch() const { return static_cast<std::int64_t>(split_.train.size()); }
  std::int64_t total_steps() const { return steps_per_epoch() * spec_.epochs; }

  void cut_windows() {
    for (const auto& record : finetune::read_training_records(spec_.dataset)) {
      const bool chat = !record.messages.empty();
      auto tokens = chat ? model_->tokenize(model_->render_chat(record.messages), true, true)
                         : model_->tokenize(record.text, true);
      tokens_.insert(tokens_.end(), tokens.begin(), tokens.end());
    }
    const std::size_t windows = finetune::window_count(tokens_.size(), spec_.context_length);
    if (windows < 1 || (spec_.validation_fraction > 0 && windows < 2)) {
      throw InputError(path_utf8(spec_.dataset),
                       std::to_string(tokens_.size()) + " tokens make " + std::to_string(windows) +
                           " windows of context_length " + std::to_string(spec_.context_length) +
                           " tokens; the job needs more text or a shorter context_length");
    }
    split_ = finetune::split_windows(windows, spec_.validation_fraction, spec_.seed);
    TLOG(info) << "finetune " << context_.job.id << ": " << tokens_.size() << " tokens, "
               << split_.train.size() << " training and " << split_.validation.size()
               << " validation windows of " << spec_.context_length << " tokens";
  }

  const std::int32_t* window(std::size_t index) const {
    return tokens_.data() + index * static_cast<std::size_t>(spec_.context_length);
  }

  std::optional<double> validate() {
    if (split_.validation.empty()) return std::nullopt;
    std::vector<const std::int32_t*> windows;
    for (std::size_t i : split_.validation) windows.push_back(window(i));
    return model_->evaluate(windows);
  }

  TrainingFigures figures() const {
    TrainingFigures f;
    f.epochs = spec_.epochs;
    const std::int64_t step = history_.step + static_cast<std::int64_t>(pending_.size());
    f.epoch = std::min<std::int64_t>(spec_.epochs,
                                     step / std::max<std::int64_t>(1, steps_per_epoch()) + 1);
    if (!recent_.empty()) {
      double sum = 0;
      for (double loss : recent_) sum += loss;
      f.train_loss = sum / static_cast<double>(recent_.size());
    }
    f.val_loss = history_.epochs.empty() ? history_.baseline_val : history_.epochs.back().val_loss;
    if (steps_this_run_ > 0) {
      // Speed: training tokens per second of training steps (validation and checkpoints apart,
      // as llama-finetune counts its own); the time left: at the whole run's pace.
      if (step_seconds_ > 0) {
        f.tokens_per_s =
            static_cast<double>(steps_this_run_) * spec_.context_length / step_seconds_;
      }
      const double seconds = std::chrono::duration<double>(Clock::now() - run_start_).count();
      if (seconds > 0) {
        f.eta_s = seconds / static_cast<double>(steps_this_run_) *
                  static_cast<double>(total_steps() - step);
      }
    }
    return f;
  }

  // Weights files no record names: a kill between writing one and recording it.
  void remove_stray_weights() {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(work_, ec)) {
      const std::string name = path_utf8(entry.path().filename());
      if (name.rfind(kWeightsPrefix, 0) == 0 && name != history_.weights) {
        fs::remove(entry.path(), ec);
      }
    }
  }

  void save_checkpoint(std::optional<EpochFigures> epoch_end) {
    const std::int64_t step = history_.step + static_cast<std::int64_t>(pending_.size());
    const std::string weights = weights_name(step);
    model_->save(work_ / weights);
    nlohmann::json record = {{"step", step}, {"weights", weights}, {"losses", pending_}};
    if (epoch_end) {
      record["epoch"] = epoch_end->epoch;
      record["train_loss"] = epoch_end->train_loss;
      record["val_loss"] = optional_json(epoch_end->val_loss);
    }
    context_.checkpoint.record(kStepPrefix + std::to_string(step), record);
    const std::string previous = history_.weights;
    history_.step = step;
    history_.weights = weights;
    history_.step_loss.insert(history_.step_loss.end(), pending_.begin(), pending_.end());
    if (epoch_end) history_.epochs.push_back(*epoch_end);
    pending_.clear();
    if (!previous.empty()) {
      std::error_code ignored;
      fs::remove(work_ / previous, ignored);
    }
  }

  // Before each step: a stop or a pause first saves what is not saved yet.
  void boundary() {
    const JobControl& control = context_.control;
    const bool stopping = control.stop.stop_requested();
    const bool pausing = control.pause != nullptr && control.pause->paused();
    if ((stopping || pausing) && !pending_.empty()) save_checkpoint(std::nullopt);
    control.checkpoint_boundary();
  }

  void train() {
    const std::int64_t per_epoch = steps_per_epoch();
    const std::int64_t total = total_steps();
    run_start_ = Clock::now();
    std::vector<std::size_t> order;
    int order_epoch = -1;
    for (std::int64_t step = history_.step; step < total; ++step) {
      boundary();
      const int epoch = static_cast<int>(step / per_epoch);
      if (epoch != order_epoch) {
        order = finetune::epoch_order(split_.train, spec_.seed, epoch);
        order_epoch = epoch;
      }
      const auto step_start = Clock::now();
      const double loss =
          model_->train_step(window(order[static_cast<std::size_t>(step % per_epoch)]));
      step_seconds_ += std::chrono::duration<double>(Clock::now() - step_start).count();
      pending_.push_back(loss);
      recent_.push_back(loss);
      if (recent_.size() > 16) recent_.erase(recent_.begin());
      ++steps_this_run_;
      const bool epoch_end = (step + 1) % per_epoch == 0;
      std::optional<EpochFigures> figures_at_end;
      if (epoch_end) {
        figures_at_end = EpochFigures{epoch + 1, epoch_mean(step + 1, per_epoch), validate()};
        TLOG(info) << "finetune " << context_.job.id << ": epoch " << epoch + 1 << "/"
                   << spec_.epochs << " train loss " << figures_at_end->train_loss
                   << (figures_at_end->val_loss
                           ? ", validation loss " + std::to_string(*figures_at_end->val_loss)
                           : std::string());
      }
      if (epoch_end || (step + 1) % spec_.checkpoint_every == 0) {
        save_checkpoint(figures_at_end);
      }
      context_.control.report({"train", step + 1, total, figures()});
    }
  }

  // The mean loss of the epoch ending at step `end` (its steps are in the history and pending).
  double epoch_mean(std::int64_t end, std::int64_t per_epoch) const {
    double sum = 0;
    for (std::int64_t s = end - per_epoch; s < end; ++s) {
      const auto saved = static_cast<std::int64_t>(history_.step_loss.size());
      sum += s < saved ? history_.step_loss[static_cast<std::size_t>(s)]
                       : pending_[static_cast<std::size_t>(s - saved)];
    }
    return sum / static_cast<double>(per_epoch);
  }

  void finish() {
    std::vector<fs::path> copies;
    if (!spec_.output_dir.empty()) copies.push_back(spec_.output_dir / spec_.output_model);
    model_->save(work_ / spec_.output_model, copies);

    nlohmann::json epochs = nlohmann::json::array();
    for (const EpochFigures& e : history_.epochs) {
      epochs.push_back({{"epoch", e.epoch},
                        {"train_loss", e.train_loss},
                        {"val_loss", optional_json(e.val_loss)},
                        {"val_perplexity", e.val_loss ? nlohmann::json(perplexity(*e.val_loss))
                                                      : nlohmann::json(nullptr)}});
    }
    // NaN, not std::optional, for an absent loss: MinGW's GCC warns (wrongly) that such an
    // optional may be read uninitialised.
    const double before = history_.baseline_val.value_or(std::nan(""));
    const double after = history_.epochs.empty()
                             ? std::nan("")
                             : history_.epochs.back().val_loss.value_or(std::nan(""));
    auto loss_json = [](double loss) {
      return std::isnan(loss) ? nlohmann::json(nullptr) : nlohmann::json(loss);
    };
    auto ppl_json = [](double loss) {
      return std::isnan(loss) ? nlohmann::json(nullptr) : nlohmann::json(perplexity(loss));
    };
    const nlohmann::json metrics = {
        {"base_model", path_utf8(base_model_)},
        {"dataset", path_utf8(spec_.dataset)},
        {"output_model", spec_.output_model},
        {"tokens", tokens_.size()},
        {"context_length", spec_.context_length},
        {"train_windows", split_.train.size()},
        {"validation_windows", split_.validation.size()},
        {"steps", history_.step},
        {"step_loss", history_.step_loss},
        {"epochs", epochs},
        {"validation_loss", {{"before", loss_json(before)}, {"after", loss_json(after)}}},
        {"validation_perplexity", {{"before", ppl_json(before)}, {"after", ppl_json(after)}}},
        {"tokens_per_second", optional_json(figures().tokens_per_s)}};
    write_file_atomically(work_ / kFinetuneMetricsFile, metrics.dump(2) + "\n");
    context_.checkpoint.record(kFinished, {{"output", spec_.output_model}});
    std::error_code ignored;
    if (!history_.weights.empty()) fs::remove(work_ / history_.weights, ignored);
    TLOG(info) << "finetune " << context_.job.id << " done: validation perplexity "
               << ppl_json(before).dump() << " -> " << ppl_json(after).dump() << "; wrote "
               << spec_.output_model;
  }

  const spool::FinetuneSpec& spec_;
  const JobContext& context_;
  fs::path work_;
  fs::path base_model_;
  History history_;
  std::optional<finetune::LlamaTraining> model_;
  std::vector<std::int32_t> tokens_;
  finetune::WindowSplit split_;
  std::vector<double> pending_;  // losses of the steps since the last record
  std::vector<double> recent_;   // the last few losses, for the published train loss
  std::int64_t steps_this_run_ = 0;
  double step_seconds_ = 0;  // inside train_step, this run
  Clock::time_point run_start_;
};

}  // namespace

void run_job(const spool::FinetuneSpec& spec, const JobContext& context) {
  FinetuneRun(spec, context).run();
}

}  // namespace tandem::trainer
