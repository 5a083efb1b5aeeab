#include "common/spool/distill_spec.h"

#include "common/files.h"

namespace tandem::spool {
namespace {

constexpr std::size_t kMinLabels = 2;
constexpr std::size_t kMaxLabels = 64;

}  // namespace

DistillSpec DistillSpec::parse(JobFields& f, const std::filesystem::path& base_dir,
                               PathCheck check) {
  DistillSpec job;
  job.dataset = f.path("dataset", f.required_string("dataset", std::string(kKind)), base_dir,
                       JobFields::PathIs::file, check);

  auto labels = f.string_array("labels");
  if (!labels) f.fail("labels", "missing (required for a distill job)");
  if (labels->size() < kMinLabels || labels->size() > kMaxLabels) {
    f.fail("labels", "expected " + std::to_string(kMinLabels) + " to " +
                         std::to_string(kMaxLabels) + " labels, got " +
                         std::to_string(labels->size()));
  }
  for (std::size_t i = 0; i < labels->size(); ++i) {
    if ((*labels)[i].empty()) f.fail_element("labels", i, "must not be empty");
    for (std::size_t j = 0; j < i; ++j) {
      if ((*labels)[j] == (*labels)[i]) {
        f.fail_element("labels", i,
                       json_quoted((*labels)[i]) + " repeats labels[" + std::to_string(j) + "]");
      }
    }
  }
  job.labels = std::move(*labels);

  job.prompt_template = f.string("prompt_template").value_or(std::string(kDefaultPromptTemplate));
  if (job.prompt_template.find("{text}") == std::string::npos) {
    f.fail("prompt_template", "must contain {text}, where each item's text goes");
  }
  if (auto v = f.integer("epochs", 1, 10000)) job.epochs = static_cast<int>(*v);
  if (auto v = f.number("learning_rate", 0, 100)) {
    if (*v <= 0) f.fail("learning_rate", "must be greater than 0");
    job.learning_rate = *v;
  }
  if (auto v = f.number("holdout_fraction", 0, 0.5)) job.holdout_fraction = *v;
  if (auto v = f.integer("seed", 0, INT64_MAX)) job.seed = static_cast<std::uint64_t>(*v);
  job.max_items = f.integer("max_items", 1, INT64_MAX);
  if (auto model = f.string("model")) {
    if (model->empty()) f.fail("model", "must not be empty (leave it out for the default model)");
    job.model = *model;
  }
  if (auto v = f.number("min_agreement", 0, 1)) {
    if (*v <= 0) f.fail("min_agreement", "must be greater than 0");
    job.min_agreement = *v;
  }
  return job;
}

void DistillSpec::write_absolute_paths(nlohmann::ordered_json& job) const {
  job["dataset"] = path_utf8(dataset);
}

}  // namespace tandem::spool
