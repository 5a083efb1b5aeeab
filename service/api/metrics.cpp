#include "service/api/metrics.h"

#include <iomanip>
#include <sstream>

#include "common/llama/llama_backend.h"

namespace tandem::api {
namespace {

std::string label_value(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void describe(std::ostream& out, std::string_view name, std::string_view type,
              std::string_view help) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

}  // namespace

void Metrics::record_request(std::string_view route, int status, double seconds) {
  std::lock_guard lock(mutex_);
  ++requests_[{std::string(route), status}];
  for (std::size_t i = 0; i < kDurationBuckets.size(); ++i) {
    if (seconds <= kDurationBuckets[i]) {
      ++buckets_[i];
      break;
    }
  }
  duration_sum_ += seconds;
  ++duration_count_;
}

void Metrics::record_error(std::string_view code) {
  std::lock_guard lock(mutex_);
  ++errors_[std::string(code)];
}

void Metrics::add_tokens(int prompt_tokens, int generated_tokens) {
  std::lock_guard lock(mutex_);
  prompt_tokens_ += static_cast<std::uint64_t>(prompt_tokens);
  generated_tokens_ += static_cast<std::uint64_t>(generated_tokens);
}

std::string Metrics::render(const inference::CompletionBackend::Stats* stats) const {
  std::ostringstream out;
  out << std::setprecision(9);
  std::lock_guard lock(mutex_);

  describe(out, "tandem_requests_total", "counter", "HTTP requests answered, by route and status.");
  for (const auto& [key, count] : requests_) {
    out << "tandem_requests_total{route=\"" << label_value(key.first) << "\",status=\""
        << key.second << "\"} " << count << '\n';
  }
  describe(out, "tandem_errors_total", "counter", "Error responses, by error code.");
  for (const auto& [code, count] : errors_) {
    out << "tandem_errors_total{code=\"" << label_value(code) << "\"} " << count << '\n';
  }
  describe(out, "tandem_prompt_tokens_total", "counter", "Prompt tokens processed.");
  out << "tandem_prompt_tokens_total " << prompt_tokens_ << '\n';
  describe(out, "tandem_generated_tokens_total", "counter", "Tokens generated.");
  out << "tandem_generated_tokens_total " << generated_tokens_ << '\n';

  describe(out, "tandem_model_loaded", "gauge", "1 once the model is loaded and serving.");
  out << "tandem_model_loaded " << (stats ? 1 : 0) << '\n';
  describe(out, "tandem_queue_depth", "gauge", "Requests waiting for a free slot.");
  out << "tandem_queue_depth " << (stats ? stats->queued : 0) << '\n';
  describe(out, "tandem_slots", "gauge", "Inference slots.");
  out << "tandem_slots " << (stats ? stats->slots : 0) << '\n';
  describe(out, "tandem_slots_busy", "gauge", "Inference slots generating now.");
  out << "tandem_slots_busy " << (stats ? stats->busy_slots : 0) << '\n';

  if (const auto* backends = llama::backend_report()) {
    describe(
        out, "tandem_backend_info", "gauge",
        "The CPU backend module chosen at start for this processor, and its instruction sets.");
    out << "tandem_backend_info{cpu_variant=\"" << label_value(backends->cpu_variant)
        << "\",cpu_features=\"" << label_value(backends->cpu_features) << "\"} 1\n";
    const auto devices = llama::compute_devices();
    describe(out, "tandem_device_memory_total_bytes", "gauge", "Memory of each compute device.");
    for (const auto& d : devices) {
      out << "tandem_device_memory_total_bytes{device=\"" << label_value(d.name) << "\",type=\""
          << label_value(d.type) << "\",description=\"" << label_value(d.description) << "\"} "
          << d.memory_total << '\n';
    }
    describe(out, "tandem_device_memory_free_bytes", "gauge",
             "Free memory of each compute device.");
    for (const auto& d : devices) {
      out << "tandem_device_memory_free_bytes{device=\"" << label_value(d.name) << "\"} "
          << d.memory_free << '\n';
    }
  }

  describe(out, "tandem_cache_ram_hits_total", "counter",
           "Prompts whose start was restored from the RAM prompt cache.");
  out << "tandem_cache_ram_hits_total " << (stats ? stats->cache_ram_hits : 0) << '\n';
  describe(out, "tandem_cache_ram_misses_total", "counter",
           "Prompts whose start neither their slot nor the RAM prompt cache held.");
  out << "tandem_cache_ram_misses_total " << (stats ? stats->cache_ram_misses : 0) << '\n';
  describe(out, "tandem_cache_ram_bytes", "gauge", "Bytes of slot states in the RAM prompt cache.");
  out << "tandem_cache_ram_bytes " << (stats ? stats->cache_ram_bytes : 0) << '\n';

  describe(out, "tandem_model_layers", "gauge",
           "Layers of the default model that can be offloaded (its output layer counts as one).");
  out << "tandem_model_layers " << (stats ? stats->model_layers : 0) << '\n';
  describe(out, "tandem_gpu_layers", "gauge",
           "Layers of the default model on each GPU (n_gpu_layers); none: all on the CPU.");
  if (stats) {
    for (const auto& d : stats->gpu_layers) {
      out << "tandem_gpu_layers{device=\"" << label_value(d.device) << "\",description=\""
          << label_value(d.description) << "\"} " << d.layers << '\n';
    }
  }

  describe(out, "tandem_request_duration_seconds", "histogram",
           "Time from request to the end of the response.");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kDurationBuckets.size(); ++i) {
    cumulative += buckets_[i];
    out << "tandem_request_duration_seconds_bucket{le=\"" << kDurationBuckets[i] << "\"} "
        << cumulative << '\n';
  }
  out << "tandem_request_duration_seconds_bucket{le=\"+Inf\"} " << duration_count_ << '\n';
  out << "tandem_request_duration_seconds_sum " << duration_sum_ << '\n';
  out << "tandem_request_duration_seconds_count " << duration_count_ << '\n';
  return out.str();
}

}  // namespace tandem::api
