#include "common/spool/finetune_spec.h"

#include "common/files.h"

namespace tandem::spool {
namespace {

bool ends_with(const std::string& s, std::string_view tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

FinetuneSpec FinetuneSpec::parse(JobFields& f, const std::filesystem::path& base_dir,
                                 PathCheck check) {
  const std::string kind(kKind);
  FinetuneSpec job;
  const std::string base = f.required_string("base_model", kind);
  if (base.find_first_of("/\\:") == std::string::npos && !ends_with(base, ".gguf") && base != "." &&
      base != "..") {
    job.base_model_name = base;
  } else {
    job.base_model = f.path("base_model", base, base_dir, JobFields::PathIs::file, check);
  }
  const std::string dataset = f.required_string("dataset", kind);
  if (!ends_with(dataset, ".txt") && !ends_with(dataset, ".jsonl")) {
    f.fail("dataset",
           "expected a .txt (plain text) or .jsonl (records) file, got " + json_quoted(dataset));
  }
  job.dataset = f.path("dataset", dataset, base_dir, JobFields::PathIs::file, check);

  job.output_model = f.required_string("output_model", kind);
  if (job.output_model.find_first_of("/\\:*?\"<>|") != std::string::npos ||
      job.output_model == "." || job.output_model == "..") {
    f.fail("output_model",
           "must be a file name without a folder, got " + json_quoted(job.output_model));
  }
  if (!ends_with(job.output_model, ".gguf")) job.output_model += ".gguf";
  if (auto dir = f.string("output_dir")) {
    if (dir->empty()) f.fail("output_dir", "must not be empty");
    job.output_dir = f.path("output_dir", *dir, base_dir, JobFields::PathIs::folder, check);
  }

  if (auto v = f.integer("epochs", 1, 1000)) job.epochs = static_cast<int>(*v);
  if (auto v = f.number("learning_rate", 0, 1)) {
    if (*v <= 0) f.fail("learning_rate", "must be greater than 0");
    job.learning_rate = *v;
  }
  if (auto v = f.integer("context_length", 256, 32768)) {
    // llama.cpp pads every context to a multiple of 256, and a step must be one whole window.
    if (*v % 256 != 0)
      f.fail("context_length", "must be a multiple of 256, got " + std::to_string(*v));
    job.context_length = static_cast<int>(*v);
  }
  if (auto v = f.number("validation_fraction", 0, 0.5)) job.validation_fraction = *v;
  if (auto v = f.integer("seed", 0, INT64_MAX)) job.seed = static_cast<std::uint64_t>(*v);
  if (auto v = f.integer("threads", 0, 1024)) job.threads = static_cast<int>(*v);
  if (auto v = f.integer("checkpoint_every", 1, 1000000)) {
    job.checkpoint_every = static_cast<int>(*v);
  }
  if (auto optimizer = f.string("optimizer")) {
    if (*optimizer == "adamw") {
      job.optimizer = FinetuneOptimizer::adamw;
    } else if (*optimizer == "sgd") {
      job.optimizer = FinetuneOptimizer::sgd;
    } else {
      f.fail("optimizer", "expected \"adamw\" or \"sgd\", got " + json_quoted(*optimizer));
    }
  }
  return job;
}

void FinetuneSpec::write_absolute_paths(nlohmann::ordered_json& job) const {
  if (!base_model.empty()) job["base_model"] = path_utf8(base_model);
  job["dataset"] = path_utf8(dataset);
  if (!output_dir.empty()) job["output_dir"] = path_utf8(output_dir);
}

}  // namespace tandem::spool
