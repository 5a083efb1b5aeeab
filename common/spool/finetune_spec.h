// A `finetune` job: train the language model itself (full fine-tuning with llama.cpp's
// llama_opt_*) on a text or chat dataset and write the result as a new GGUF
// (trainer/finetune/ runs it).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/spool/job_fields.h"

namespace tandem::spool {

enum class FinetuneOptimizer { adamw, sgd };

struct FinetuneSpec {
  static constexpr std::string_view kKind = "finetune";

  std::filesystem::path base_model;  // a GGUF with F32 weights; absolute once parsed
  // Or a model of the server's models folder by id (`base_model` without a folder or ".gguf"):
  // the trainer finds <models_dir>/<id>.gguf when the job runs; base_model is then empty.
  std::string base_model_name;
  std::filesystem::path dataset;     // .txt (plain text) or .jsonl (chat or text records)
  std::string output_model;          // file name of the result, ".gguf" added when missing
  std::filesystem::path output_dir;  // empty: the result stays in the job's work folder only
  int epochs = 2;
  double learning_rate = 1e-4;
  int context_length = 512;  // tokens per window, a multiple of 256 (llama.cpp pads to it)
  double validation_fraction = 0.1;
  std::uint64_t seed = 42;
  int threads = 0;            // 0: half the cores, at least 1; never more than the cores
  int checkpoint_every = 20;  // steps (windows) between checkpoints
  FinetuneOptimizer optimizer = FinetuneOptimizer::adamw;

  // Reads this kind's fields; relative paths resolve against `base_dir`.
  static FinetuneSpec parse(JobFields& fields, const std::filesystem::path& base_dir,
                            PathCheck check);
  // Writes the paths it resolved into `job`, absolute: base_model, dataset, output_dir.
  void write_absolute_paths(nlohmann::ordered_json& job) const;
};

}  // namespace tandem::spool
