#include "trainer/finetune/llama_training.h"

#include <cstring>

#include <ggml-cpu.h>
#include <ggml-opt.h>
#include <gguf.h>
#include <llama.h>

#include "common/error.h"
#include "common/files.h"
#include "common/llama/llama_backend.h"

namespace tandem::finetune {
namespace {

struct GgufFree {
  void operator()(gguf_context* c) const { gguf_free(c); }
};
using GgufPtr = std::unique_ptr<gguf_context, GgufFree>;

GgufPtr open_metadata(const std::filesystem::path& file) {
  gguf_init_params params{/*no_alloc=*/true, /*ctx=*/nullptr};
  GgufPtr gguf(gguf_init_from_file(path_utf8(file).c_str(), params));
  if (!gguf) throw Error("cannot read the GGUF metadata of " + path_utf8(file));
  return gguf;
}

ggml_opt_optimizer_params optimizer_params(void* userdata) {
  const float lr = *static_cast<const float*>(userdata);
  ggml_opt_optimizer_params p = ggml_opt_get_default_optimizer_params(nullptr);
  p.adamw.alpha = lr;
  p.sgd.alpha = lr;
  p.sgd.wd = 0.0f;
  return p;
}

}  // namespace

struct LlamaTraining::State {
  std::filesystem::path base_model;
  TrainingOptions options;
  float learning_rate = 0;
  llama_model* model = nullptr;
  llama_context* ctx = nullptr;
  ggml_threadpool* pool = nullptr;
  ggml_opt_dataset_t one = nullptr;  // a one-window dataset: one llama_opt_epoch call, one step
  ggml_opt_result_t result = nullptr;

  ~State() {
    if (result) ggml_opt_result_free(result);
    if (one) ggml_opt_dataset_free(one);
    if (ctx) llama_free(ctx);
    llama::free_cpu_threadpool(pool);
    if (model) llama_model_free(model);
  }

  void load_window(ggml_opt_dataset_t set, std::int64_t index, const std::int32_t* window) const {
    const auto n = static_cast<std::size_t>(options.context_length);
    auto* data = static_cast<std::int32_t*>(ggml_opt_dataset_data(set)->data);
    auto* labels = static_cast<std::int32_t*>(ggml_opt_dataset_labels(set)->data);
    std::memcpy(data + index * static_cast<std::int64_t>(n), window, n * sizeof(std::int32_t));
    std::memcpy(labels + index * static_cast<std::int64_t>(n), window + 1,
                n * sizeof(std::int32_t));
  }

  ggml_opt_dataset_t make_dataset(std::int64_t windows) const {
    return ggml_opt_dataset_init(GGML_TYPE_I32, GGML_TYPE_I32, options.context_length,
                                 options.context_length, windows, /*ndata_shard=*/1);
  }
};

LlamaTraining::LlamaTraining(const std::filesystem::path& model,
                             const std::filesystem::path& base_model,
                             const TrainingOptions& options)
    : s_(std::make_unique<State>()) {
  llama::ensure_llama_backend();
  s_->base_model = base_model;
  s_->options = options;
  s_->learning_rate = static_cast<float>(options.learning_rate);

  llama_model_params mp = llama_model_default_params();
  mp.load_mode = LLAMA_LOAD_MODE_NONE;  // training writes the weights: no read-only mapping
  mp.n_gpu_layers = 0;
  s_->model = llama_model_load_from_file(path_utf8(model).c_str(), mp);
  if (!s_->model) throw Error("llama.cpp could not load the model " + path_utf8(model));

  // Below-normal priority (THREAD_PRIORITY_BELOW_NORMAL on Windows, SCHED_BATCH on Linux) for
  // every thread that computes, so the server's inference keeps the CPU when both want it.
  ggml_threadpool_params tp = ggml_threadpool_params_default(options.threads);
  tp.prio = GGML_SCHED_PRIO_LOW;
  tp.poll = 0;  // idle workers sleep rather than spin between steps
  s_->pool = llama::new_cpu_threadpool(tp);

  llama_context_params cp = llama_context_default_params();
  const auto n = static_cast<std::uint32_t>(options.context_length);
  cp.n_ctx = cp.n_batch = cp.n_ubatch = n;  // one window, one batch: one optimiser step
  cp.n_seq_max = 1;
  cp.n_threads = cp.n_threads_batch = options.threads;
  cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;  // FLASH_ATTN_EXT has no backward pass
  cp.type_k = cp.type_v = GGML_TYPE_F32;                // OUT_PROD has no F16 support
  cp.no_perf = true;
  s_->ctx = llama_init_from_model(s_->model, cp);
  if (!s_->ctx)
    throw Error("llama.cpp could not create a training context for " + path_utf8(model));
  llama_attach_threadpool(s_->ctx, s_->pool, s_->pool);
  // The training path computes through the scheduler directly, never through the code that
  // hands the CPU backend its thread count and pool: without one decode first, ggml's default
  // of 4 spinning threads at normal priority trains (as llama-finetune does, whatever -t says).
  llama_token first = llama_vocab_bos(llama_model_get_vocab(s_->model));
  if (first == LLAMA_TOKEN_NULL) first = 0;
  llama_batch one_token = llama_batch_get_one(&first, 1);
  if (llama_decode(s_->ctx, one_token) != 0) {
    throw Error("llama.cpp could not decode a first token with " + path_utf8(model));
  }
  llama_memory_clear(llama_get_memory(s_->ctx), true);

  llama_opt_params op{};
  op.n_ctx_train = 0;  // the context's: every step sees exactly one window
  op.param_filter = llama_opt_param_filter_all;
  op.param_filter_ud = nullptr;
  op.get_opt_pars = optimizer_params;
  op.get_opt_pars_ud = &s_->learning_rate;
  op.optimizer_type = options.optimizer == Optimizer::sgd ? GGML_OPT_OPTIMIZER_TYPE_SGD
                                                          : GGML_OPT_OPTIMIZER_TYPE_ADAMW;
  llama_opt_init(s_->ctx, s_->model, op);

  s_->one = s_->make_dataset(1);
  s_->result = ggml_opt_result_init();
}

LlamaTraining::~LlamaTraining() = default;

std::string LlamaTraining::render_chat(const std::vector<llama::ChatMessage>& messages) const {
  return llama::ChatTemplate(s_->model).apply(messages, /*add_assistant_opening=*/false);
}

std::vector<std::int32_t> LlamaTraining::tokenize(const std::string& text, bool add_start,
                                                  bool special) const {
  const llama_vocab* vocab = llama_model_get_vocab(s_->model);
  std::vector<std::int32_t> tokens(text.size() + 2);
  for (int attempt = 0; attempt < 2; ++attempt) {
    const std::int32_t n =
        llama_tokenize(vocab, text.data(), static_cast<std::int32_t>(text.size()), tokens.data(),
                       static_cast<std::int32_t>(tokens.size()), add_start, special);
    if (n >= 0) {
      tokens.resize(static_cast<std::size_t>(n));
      return tokens;
    }
    tokens.resize(static_cast<std::size_t>(-n));  // too small: llama.cpp said how much it needs
  }
  throw Error("llama_tokenize kept asking for a larger buffer");
}

double LlamaTraining::train_step(const std::int32_t* window) {
  s_->load_window(s_->one, 0, window);
  ggml_opt_result_reset(s_->result);
  llama_opt_epoch(s_->ctx, s_->one, s_->result, nullptr, /*idata_split=*/1, nullptr, nullptr);
  double loss = 0;
  ggml_opt_result_loss(s_->result, &loss, nullptr);
  return loss;
}

double LlamaTraining::evaluate(const std::vector<const std::int32_t*>& windows) {
  if (windows.empty()) return 0;
  ggml_opt_dataset_t set = s_->make_dataset(static_cast<std::int64_t>(windows.size()));
  for (std::size_t i = 0; i < windows.size(); ++i) {
    s_->load_window(set, static_cast<std::int64_t>(i), windows[i]);
  }
  ggml_opt_result_reset(s_->result);
  llama_opt_epoch(s_->ctx, set, nullptr, s_->result, /*idata_split=*/0, nullptr, nullptr);
  double loss = 0;
  ggml_opt_result_loss(s_->result, &loss, nullptr);
  ggml_opt_dataset_free(set);
  return loss;
}

void LlamaTraining::save(const std::filesystem::path& file,
                         const std::vector<std::filesystem::path>& copies) const {
  std::filesystem::path raw = file;
  raw += ".raw";
  llama_model_save_to_file(s_->model, path_utf8(raw).c_str());
  std::error_code ignored;
  struct RemoveRaw {
    const std::filesystem::path& raw;
    ~RemoveRaw() {
      std::error_code ec;
      std::filesystem::remove(raw, ec);
    }
  } remove_raw{raw};
  if (!std::filesystem::exists(raw, ignored)) {
    throw WriteError("llama.cpp did not write " + path_utf8(raw));
  }
  // llama.cpp's saver writes only the keys it knows (no chat template) and the training
  // context as the model's: put the base model's metadata back, keeping the tensor data
  // section (aligned, its offsets relative to its start) as it is.
  GgufPtr written = open_metadata(raw);
  const std::size_t data_offset = gguf_get_data_offset(written.get());
  GgufPtr base = open_metadata(s_->base_model);
  gguf_set_kv(written.get(), base.get());
  std::string bytes(gguf_get_meta_size(written.get()), '\0');
  gguf_get_meta_data(written.get(), bytes.data());
  const std::string saved = read_file(raw);
  bytes.append(saved, data_offset, std::string::npos);
  write_file_atomically(file, bytes);
  for (const auto& copy : copies) write_file_atomically(copy, bytes);
}

}  // namespace tandem::finetune
