#include "tray/status_text.h"

namespace tandem::tray {
namespace {

std::string service_line(const char* what, const ServiceInput& service) {
  std::string line = std::string(what) + ": " + std::string(state_name(service.state));
  if (service.pid != 0) line += ", pid " + std::to_string(service.pid);
  if (service.state == ServiceRunState::stopped && service.exit_code != 0) {
    line += " (exit code " + std::to_string(service.exit_code) + ")";
  }
  return line;
}

}  // namespace

StatusText status_text(const Snapshot& s) {
  StatusText t;
  t.title = "Tandem status \xE2\x80\x94 " + llm_summary(s) + " \xC2\xB7 " + trainer_summary(s);
  t.llm = service_line("LLM server (TandemLlm)", s.llm);
  if (llm_ready(s)) {
    t.endpoint = "Endpoint: " + s.publication->url + " (port " +
                 std::to_string(s.publication->port) + "), verified";
  } else if (s.publication) {
    t.endpoint = "Endpoint: " + std::string(discovery::state_name(s.publication->state)) +
                 ", not verified" + (s.problem.empty() ? "" : ": " + s.problem);
  } else {
    t.endpoint = "Endpoint: none published";
  }
  t.model = "Model: " + (s.publication && !s.publication->model.empty() ? s.publication->model
                                                                        : std::string("-"));
  if (s.publication) {
    // The models folder's models loaded beside the default one.
    std::string others;
    for (const auto& id : s.publication->loaded_models) {
      if (id != s.publication->model) others += (others.empty() ? "" : ", ") + id;
    }
    if (!others.empty()) t.model += " (also loaded: " + others + ")";
  }
  t.compute = "Compute: -";
  if (s.publication && !s.publication->cpu_variant.empty()) {
    t.compute = "Compute: CPU variant " + s.publication->cpu_variant;
    std::string devices;
    for (const auto& d : s.publication->devices) {
      devices += (devices.empty() ? "" : ", ") + d.name + " (" + d.description + ")" +
                 (d.layers > 0 ? " " + std::to_string(d.layers) + " layers" : "");
    }
    if (!devices.empty()) t.compute += "; devices: " + devices;
  }
  t.trainer = service_line("Trainer (TandemTrainer)", s.trainer);
  if (const TrainerValues* v = live_trainer(s)) {
    t.trainer += ", " + (v->state.empty() ? std::string("no status") : v->state);
    t.job = v->job.empty() ? "Job: none"
                           : "Job: " + v->job + " (" + std::to_string(v->items_done) + " of " +
                                 std::to_string(v->items_total) + " items)";
    if (const std::string figures = describe_training(v->training);
        !v->job.empty() && !figures.empty()) {
      t.job += ", " + figures;
    }
    t.counters = "Jobs: " + std::to_string(v->jobs_done) + " done, " +
                 std::to_string(v->jobs_failed) + " failed";
    t.last_error = "Last error: " + (v->last_error.empty() ? std::string("none") : v->last_error);
  } else {
    t.job = "Job: -";
    t.counters = "Jobs: -";
    t.last_error = "Last error: -";
  }
  return t;
}

}  // namespace tandem::tray
