#include "inference/embedder.h"

#include <cmath>
#include <string>

#include "common/error.h"
#include "common/log.h"

namespace tandem::inference {
namespace {

// Inputs embedded in one batch at most (sequences of the embeddings context).
constexpr int kInputsPerBatch = 8;

// The pooling the model's GGUF names (`<arch>.pooling_type`); mean when it names none (a causal
// model's) or one that gives no vector per input (rank: a reranker's scores).
enum llama_pooling_type model_pooling(const Model& model) {
  const std::string arch = model.meta("general.architecture");
  const std::string value = model.meta(arch + ".pooling_type");
  if (value == std::to_string(LLAMA_POOLING_TYPE_CLS)) return LLAMA_POOLING_TYPE_CLS;
  if (value == std::to_string(LLAMA_POOLING_TYPE_LAST)) return LLAMA_POOLING_TYPE_LAST;
  return LLAMA_POOLING_TYPE_MEAN;
}

void normalise(std::vector<float>& v) {
  double sum = 0;
  for (const float x : v) sum += static_cast<double>(x) * x;
  const double norm = std::sqrt(sum);
  if (norm <= 0) return;  // an all-zero vector stays as it is rather than become NaN
  for (float& x : v) x = static_cast<float>(x / norm);
}

}  // namespace

Embedder::Embedder(const Model& model, int ctx_size, ggml_threadpool* threads, int n_threads)
    : ctx_size_(ctx_size),
      n_embd_(llama_model_n_embd(model.get())),
      pooling_(model_pooling(model)) {
  llama_context_params cp = llama_context_default_params();
  cp.embeddings = true;
  cp.pooling_type = pooling_;
  cp.n_seq_max = kInputsPerBatch;
  cp.kv_unified = true;  // the inputs of a batch share ctx_size cells
  cp.n_ctx = static_cast<uint32_t>(ctx_size);
  // One ubatch per batch: pooling and non-causal attention need an input's tokens together.
  cp.n_batch = cp.n_ubatch = static_cast<uint32_t>(ctx_size);
  cp.n_threads = cp.n_threads_batch = n_threads;
  cp.no_perf = true;
  ctx_.reset(llama_init_from_model(model.get(), cp));
  if (!ctx_) {
    throw Error("llama.cpp could not create an embeddings context of " + std::to_string(ctx_size) +
                " tokens (see the log for its reason)");
  }
  llama_attach_threadpool(ctx_.get(), threads, threads);
  batch_ = llama_batch_init(ctx_size, 0, 1);
  TLOG(info) << "embeddings: " << n_embd_ << " dimensions, "
             << (pooling_ == LLAMA_POOLING_TYPE_CLS    ? "cls"
                 : pooling_ == LLAMA_POOLING_TYPE_LAST ? "last-token"
                                                       : "mean")
             << " pooling, inputs of up to " << ctx_size << " tokens";
}

Embedder::~Embedder() {
  if (batch_.token) llama_batch_free(batch_);
}

bool Embedder::step(EmbedRequest& request) {
  batch_.n_tokens = 0;
  const std::size_t first = request.next;
  int seqs = 0;
  while (request.next < request.inputs.size() && seqs < kInputsPerBatch) {
    const auto& tokens = request.inputs[request.next];
    if (seqs > 0 && batch_.n_tokens + static_cast<int>(tokens.size()) > ctx_size_) break;
    for (std::size_t pos = 0; pos < tokens.size(); ++pos) {
      const int32_t i = batch_.n_tokens++;
      batch_.token[i] = tokens[pos];
      batch_.pos[i] = static_cast<llama_pos>(pos);
      batch_.n_seq_id[i] = 1;
      batch_.seq_id[i][0] = seqs;
      batch_.logits[i] = 1;
    }
    ++seqs;
    ++request.next;
  }
  llama_memory_clear(llama_get_memory(ctx_.get()), true);
  const int32_t rc = llama_decode(ctx_.get(), batch_);
  if (rc != 0) {
    throw Error("llama_decode failed with code " + std::to_string(rc) +
                " on an embeddings batch of " + std::to_string(batch_.n_tokens) + " tokens");
  }
  for (int seq = 0; seq < seqs; ++seq) {
    const float* pooled = llama_get_embeddings_seq(ctx_.get(), seq);
    if (!pooled)
      throw Error("llama.cpp has no pooled embedding for input " +
                  std::to_string(first + static_cast<std::size_t>(seq)));
    std::vector<float> vector(pooled, pooled + n_embd_);
    normalise(vector);
    request.result.vectors.push_back(std::move(vector));
  }
  return request.next == request.inputs.size();
}

}  // namespace tandem::inference
