#include "inference/engine.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <exception>
#include <future>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <ggml-cpu.h>
#include <llama.h>

#include "common/error.h"
#include "common/files.h"
#include "common/log.h"
#include "inference/chat_template.h"
#include "inference/generation.h"
#include "inference/llama_backend.h"
#include "inference/prompt_text.h"
#include "inference/sampling.h"
#include "inference/tiny_model.h"
#include "inference/utf8.h"

namespace tandem::inference {
namespace {

struct ModelFree {
  void operator()(llama_model* m) const { llama_model_free(m); }
};
struct ContextFree {
  void operator()(llama_context* c) const { llama_free(c); }
};
struct ThreadpoolFree {
  void operator()(ggml_threadpool* t) const { ggml_threadpool_free(t); }
};

constexpr int kMaxSlots = 256;  // llama.cpp's limit on sequences in one context
// Logit rows for scoring echoed prompts, per decoded batch, shared by all slots. llama.cpp keeps
// a vocabulary-wide row per output (64 rows of a 32k vocabulary: 8 MB), so a long prompt is
// scored over several batches instead of holding a row for each of its tokens.
constexpr int kEchoRowsPerBatch = 64;

std::string meta_string(const llama_model* model, const char* key) {
  std::string value(256, '\0');
  int32_t n = llama_model_meta_val_str(model, key, value.data(), value.size());
  if (n < 0) return {};
  if (static_cast<std::size_t>(n) >= value.size()) {
    value.resize(static_cast<std::size_t>(n) + 1);
    n = llama_model_meta_val_str(model, key, value.data(), value.size());
  }
  value.resize(static_cast<std::size_t>(std::max(n, 0)));
  return value;
}

void check_options(const EngineOptions& o) {
  if (o.ctx_size < 2) throw Error("ctx_size must be at least 2, not " + std::to_string(o.ctx_size));
  if (o.parallel < 1 || o.parallel > kMaxSlots) {
    throw Error("parallel must be 1 to " + std::to_string(kMaxSlots) + ", not " +
                std::to_string(o.parallel));
  }
  if (o.queue_limit < 0) {
    throw Error("queue_limit must not be negative, not " + std::to_string(o.queue_limit));
  }
}

struct Request {
  std::vector<llama_token> prompt;
  // With echo and logprobs: one per prompt token, texts set here, logprobs as they are decoded.
  std::vector<Piece> prompt_pieces;
  SamplingParams params;
  const PieceCallback* on_piece = nullptr;  // the caller's, alive while complete() blocks
  std::promise<CompletionResult> done;
};

std::size_t common_prefix(const std::vector<llama_token>& a, const std::vector<llama_token>& b) {
  const std::size_t n = std::min(a.size(), b.size());
  return static_cast<std::size_t>(std::mismatch(a.begin(), a.begin() + n, b.begin()).first -
                                  a.begin());
}

// A sequence of the shared context; owned by the worker thread.
struct Slot {
  llama_seq_id seq = 0;
  std::unique_ptr<Request> request;  // null while free
  SamplerPtr sampler;
  std::optional<Generation> generation;
  std::size_t prompt_fed = 0;  // prompt tokens handed to llama_decode so far
  // The tokens this sequence's KV cache holds, in order. Kept after a request ends, so that the
  // next one that starts the same way (a system prompt, a conversation so far) skips that part.
  std::vector<llama_token> cached;
  // The logprobs of cached[i] given cached[0..i), when a scored prompt put them there: a prompt
  // scored again from the same start (the trainer scores one text with each label) reuses them.
  std::vector<Piece> scores;
  int scores_top = -1;                  // how many alternatives each of `scores` holds
  std::uint64_t used = 0;               // when it last took a request (Impl::uses)
  llama_token next = LLAMA_TOKEN_NULL;  // sampled, still to be decoded
  int generated = 0;
  int32_t output = -1;  // index of this slot's logits in the batch just decoded
  bool in_batch = false;
  bool prompt_done = false;  // its last prompt token was in the batch just decoded
  // Batch rows whose logits score a prompt token (echo): row, index of the token they score.
  std::vector<std::pair<int32_t, std::size_t>> echo_rows;

  bool scoring() const { return request && !request->prompt_pieces.empty(); }
};

}  // namespace

struct Engine::Impl {
  EngineOptions options;
  std::unique_ptr<llama_model, ModelFree> model;
  // ggml's threads for the whole engine's life; without them ggml starts threads for every
  // batch it decodes, which costs milliseconds per request under Wine.
  std::unique_ptr<ggml_threadpool, ThreadpoolFree> threadpool;
  std::unique_ptr<llama_context, ContextFree> ctx;  // after model and threads: freed first
  const llama_vocab* vocab = nullptr;
  int n_vocab = 0;
  std::string general_name;
  std::string id;
  std::optional<ChatTemplate> chat;
  llama_batch batch{};
  int n_batch = 0;

  mutable std::mutex mutex;
  std::condition_variable wake;
  std::deque<std::unique_ptr<Request>> admitted;  // hold a slot, not yet taken up by the worker
  std::deque<std::unique_ptr<Request>> waiting;   // wait for a slot
  int reserved = 0;                               // slots held (admitted or running)
  bool stopping = false;
  std::uint64_t prompt_tokens = 0;
  std::uint64_t generated_tokens = 0;

  std::vector<Slot> slots;  // worker thread only
  std::uint64_t uses = 0;   // requests taken up so far (worker thread only)
  std::thread worker;
  std::mutex join_mutex;

  Impl(const EngineOptions& o, const std::function<void(float)>& progress);
  ~Impl();

  void load(const std::function<void(float)>& progress);
  void warm_up();
  std::vector<llama_token> tokenize(const std::string& text) const;
  std::string token_bytes(llama_token token, bool special = false) const;
  std::vector<Piece> prompt_pieces(const std::string& prompt,
                                   const std::vector<llama_token>& tokens) const;
  std::vector<TokenLogprob> alternatives(const TokenLogprobs& lp) const;
  void shutdown();

  // Worker side.
  void run();
  bool any_running() const;
  void take_admitted();
  Slot* free_slot_for(const std::vector<llama_token>& prompt);
  void reuse_cache(Slot& slot);
  void forget_cache(Slot& slot);
  void step();
  int32_t add_to_batch(llama_token token, Slot& slot, bool wants_logits);
  const float* logits(int32_t row) const;
  void score_prompt(Slot& slot);
  void sample(Slot& slot);
  void finish(Slot& slot, FinishReason reason);
  void fail(Slot& slot, std::exception_ptr error);
  std::unique_ptr<Request> release(Slot& slot);
};

Engine::Impl::Impl(const EngineOptions& o, const std::function<void(float)>& progress)
    : options(o) {
  check_options(options);
  ensure_llama_backend();
  load(progress);

  const int threads = effective_threads(options.threads);
  ggml_threadpool_params tp = ggml_threadpool_params_default(threads);
  // They sleep as soon as a batch is done (llama-server's threads spin on for ~0.2 s: a core
  // taken from the trainer and everything else on the machine after every answer).
  tp.poll = 0;
  threadpool.reset(ggml_threadpool_new(&tp));
  if (!threadpool) throw Error("ggml could not start " + std::to_string(threads) + " threads");
  llama_context_params cp = llama_context_default_params();
  cp.n_seq_max = static_cast<uint32_t>(options.parallel);
  cp.n_ctx = static_cast<uint32_t>(options.ctx_size) * cp.n_seq_max;
  n_batch = static_cast<int>(std::min<uint32_t>(cp.n_ctx, 2048));
  cp.n_batch = static_cast<uint32_t>(n_batch);
  cp.n_ubatch = std::min<uint32_t>(cp.n_batch, 512);
  // One set of logits per slot and step to sample from, and the rows that score echoed prompts.
  cp.n_outputs_max = cp.n_seq_max + static_cast<uint32_t>(kEchoRowsPerBatch);
  cp.n_threads = cp.n_threads_batch = threads;
  cp.no_perf = true;
  ctx.reset(llama_init_from_model(model.get(), cp));
  if (!ctx) {
    throw Error("llama.cpp could not create a context of " + std::to_string(cp.n_ctx) +
                " tokens for " + path_utf8(options.model) + " (see the log for its reason)");
  }
  llama_attach_threadpool(ctx.get(), threadpool.get(), threadpool.get());
  batch = llama_batch_init(n_batch, 0, 1);
  warm_up();

  slots.resize(static_cast<std::size_t>(options.parallel));
  for (std::size_t i = 0; i < slots.size(); ++i) slots[i].seq = static_cast<llama_seq_id>(i);

  TLOG(info) << "model " << id << " loaded from " << path_utf8(options.model) << ": "
             << options.parallel << " slots of " << options.ctx_size << " tokens, " << threads
             << " threads";
  worker = std::thread([this] { run(); });
}

Engine::Impl::~Impl() {
  shutdown();
  if (batch.token) llama_batch_free(batch);
}

void Engine::Impl::load(const std::function<void(float)>& progress) {
  const std::string file = path_utf8(options.model);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(options.model, ec)) {
    throw Error("model file not found: " + file);
  }
  struct Progress {
    const std::function<void(float)>* report;
    std::exception_ptr error;
  } state{&progress, nullptr};
  llama_model_params mp = llama_model_default_params();
  mp.progress_callback_user_data = &state;
  // Always ours, even without a reporter: llama.cpp's default prints dots to stderr.
  mp.progress_callback = [](float p, void* data) {
    auto* s = static_cast<Progress*>(data);
    if (!*s->report) return true;
    try {
      (*s->report)(p);
      return true;
    } catch (...) {
      s->error = std::current_exception();
      return false;  // cancels the load
    }
  };
  model.reset(llama_model_load_from_file(file.c_str(), mp));
  if (state.error) std::rethrow_exception(state.error);
  if (!model) {
    throw Error("cannot load model " + file +
                ": not a GGUF model llama.cpp can read (see the log for its reason)");
  }
  vocab = llama_model_get_vocab(model.get());
  n_vocab = llama_vocab_n_tokens(vocab);
  general_name = meta_string(model.get(), "general.name");
  id = general_name.empty() ? path_utf8(options.model.stem()) : general_name;
  chat.emplace(model.get());
}

void Engine::Impl::warm_up() {
  // The first decode maps the weights in and sizes ggml's buffers; done before the server says
  // it is ready, so that its first request runs at full speed (as llama-server does).
  std::vector<llama_token> tokens;
  for (const llama_token t : {llama_vocab_bos(vocab), llama_vocab_eos(vocab)}) {
    if (t != LLAMA_TOKEN_NULL) tokens.push_back(t);
  }
  if (tokens.empty()) tokens.push_back(0);
  const int32_t rc = llama_decode(
      ctx.get(), llama_batch_get_one(tokens.data(), static_cast<int32_t>(tokens.size())));
  if (rc != 0) {
    throw Error("llama_decode failed with code " + std::to_string(rc) + " on a first batch of " +
                std::to_string(tokens.size()) + " tokens of " + path_utf8(options.model));
  }
  llama_memory_clear(llama_get_memory(ctx.get()), true);
  llama_synchronize(ctx.get());
}

std::vector<llama_token> Engine::Impl::tokenize(const std::string& text) const {
  // Special tokens are parsed so that a chat template's markers become the model's own tokens.
  std::vector<llama_token> tokens(text.size() + 2);
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int32_t n =
        llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), tokens.data(),
                       static_cast<int32_t>(tokens.size()), true, true);
    if (n >= 0) {
      tokens.resize(static_cast<std::size_t>(n));
      return tokens;
    }
    if (n == std::numeric_limits<int32_t>::min()) break;  // overflow of int32_t
    tokens.resize(static_cast<std::size_t>(-n));
  }
  throw InputError("prompt", "cannot be tokenized (" + std::to_string(text.size()) + " bytes)");
}

std::string Engine::Impl::token_bytes(llama_token token, bool special) const {
  std::string out(32, '\0');
  int32_t n =
      llama_token_to_piece(vocab, token, out.data(), static_cast<int32_t>(out.size()), 0, special);
  if (n < 0) {
    out.resize(static_cast<std::size_t>(-n));
    n = llama_token_to_piece(vocab, token, out.data(), static_cast<int32_t>(out.size()), 0,
                             special);
  }
  out.resize(static_cast<std::size_t>(std::max(n, 0)));
  return out;
}

std::vector<Piece> Engine::Impl::prompt_pieces(const std::string& prompt,
                                               const std::vector<llama_token>& tokens) const {
  // Special tokens spelled out, as the prompt holds them (a chat template's markers); those the
  // tokenizer added itself are not in the prompt.
  std::vector<std::string> rendered;
  rendered.reserve(tokens.size());
  for (const llama_token token : tokens) rendered.push_back(token_bytes(token, true));
  if (llama_vocab_get_add_bos(vocab) && tokens.front() == llama_vocab_bos(vocab)) {
    rendered.front().clear();
  }
  if (llama_vocab_get_add_eos(vocab) && tokens.back() == llama_vocab_eos(vocab)) {
    rendered.back().clear();
  }
  std::vector<Piece> pieces;
  pieces.reserve(tokens.size());
  for (auto& text : prompt_token_texts(prompt, rendered)) {
    pieces.push_back({std::move(text), std::numeric_limits<float>::quiet_NaN(), {}, 1});
  }
  return pieces;
}

std::vector<TokenLogprob> Engine::Impl::alternatives(const TokenLogprobs& lp) const {
  std::vector<TokenLogprob> top;
  top.reserve(lp.top.size());
  for (const auto& [alt, logprob] : lp.top) {
    top.push_back({to_valid_utf8(token_bytes(alt)), logprob});
  }
  return top;
}

void Engine::Impl::shutdown() {
  std::deque<std::unique_ptr<Request>> dropped;
  {
    std::lock_guard lock(mutex);
    stopping = true;
    reserved -= static_cast<int>(admitted.size());
    for (auto* queue : {&admitted, &waiting}) {
      for (auto& r : *queue) dropped.push_back(std::move(r));
      queue->clear();
    }
  }
  wake.notify_all();
  for (auto& r : dropped)
    r->done.set_exception(std::make_exception_ptr(Error("server is stopping")));
  std::lock_guard join_lock(join_mutex);
  // From a piece callback (the worker itself) the join is left to the destructor.
  if (worker.joinable() && worker.get_id() != std::this_thread::get_id()) worker.join();
}

// ---- worker ----------------------------------------------------------------------------------

void Engine::Impl::run() {
  for (;;) {
    {
      std::unique_lock lock(mutex);
      wake.wait(lock, [&] { return stopping || !admitted.empty() || any_running(); });
      if (stopping) break;
      take_admitted();
    }
    try {
      step();
    } catch (const std::exception& e) {
      TLOG(error) << "inference step failed: " << e.what();
      const auto error = std::current_exception();
      for (auto& slot : slots) {
        if (slot.request) fail(slot, error);
      }
    }
  }
  // Stopping: what is running ends now, with the text it has so far.
  for (auto& slot : slots) {
    if (slot.request) finish(slot, FinishReason::cancelled);
  }
}

bool Engine::Impl::any_running() const {
  return std::any_of(slots.begin(), slots.end(), [](const Slot& s) { return bool(s.request); });
}

void Engine::Impl::take_admitted() {
  while (!admitted.empty()) {
    Slot* slot = free_slot_for(admitted.front()->prompt);
    if (!slot) return;
    slot->request = std::move(admitted.front());
    admitted.pop_front();
    slot->sampler = make_sampler(slot->request->params, n_vocab, slot->request->prompt);
    slot->generation.emplace(slot->request->params, *slot->request->on_piece);
    slot->next = LLAMA_TOKEN_NULL;
    slot->generated = 0;
    slot->prompt_done = false;
    slot->echo_rows.clear();
    reuse_cache(*slot);
  }
}

Slot* Engine::Impl::free_slot_for(const std::vector<llama_token>& prompt) {
  // The free slot whose cache starts as the prompt does, for at least half of the shorter of the
  // two (a BOS or a chat template's first marker alone does not count); else the least recently
  // used, so that an unrelated request does not evict a conversation that may go on.
  Slot* best = nullptr;
  std::size_t best_shared = 0;
  for (auto& slot : slots) {
    if (slot.request) continue;
    std::size_t shared = common_prefix(slot.cached, prompt);
    if (shared * 2 < std::min(slot.cached.size(), prompt.size())) shared = 0;
    if (!best || shared > best_shared || (shared == best_shared && slot.used < best->used)) {
      best = &slot;
      best_shared = shared;
    }
  }
  if (best) best->used = ++uses;
  return best;
}

void Engine::Impl::reuse_cache(Slot& slot) {
  Request& request = *slot.request;
  const auto& prompt = request.prompt;
  llama_memory_t memory = llama_get_memory(ctx.get());
  // The last prompt token is always decoded again, for the logits to sample from. A scored
  // prompt needs the logprob of every token: the kept ones take theirs from `scores`, and so
  // does the first one decoded again (the token before it scored it), so that one must be
  // shared and scored too. A cache that lost its first positions (sliding-window attention) is
  // not reused.
  const std::size_t shared = common_prefix(slot.cached, prompt);
  std::size_t keep = std::min(shared, prompt.size() - 1);
  if (slot.scoring()) {
    const std::size_t scored = std::min(shared, slot.scores.size());
    const bool reusable = slot.scores_top == request.params.top_logprobs && scored > 0;
    keep = reusable ? std::min(keep, scored - 1) : 0;
  }
  if (keep > 0 && llama_memory_seq_pos_min(memory, slot.seq) > 0) keep = 0;
  if (keep > 0 && !llama_memory_seq_rm(memory, slot.seq, static_cast<llama_pos>(keep), -1)) {
    keep = 0;
  }
  if (keep == 0) return forget_cache(slot);
  if (slot.scoring()) {
    for (std::size_t i = 1; i <= keep; ++i) {
      request.prompt_pieces[i].logprob = slot.scores[i].logprob;
      request.prompt_pieces[i].top = slot.scores[i].top;
    }
  }
  slot.cached.resize(keep);
  slot.scores.resize(std::min(slot.scores.size(), keep));
  slot.prompt_fed = keep;
}

void Engine::Impl::forget_cache(Slot& slot) {
  llama_memory_seq_rm(llama_get_memory(ctx.get()), slot.seq, -1, -1);
  slot.cached.clear();
  slot.scores.clear();
  slot.prompt_fed = 0;
}

int32_t Engine::Impl::add_to_batch(llama_token token, Slot& slot, bool wants_logits) {
  const int32_t i = batch.n_tokens++;
  batch.token[i] = token;
  batch.pos[i] = static_cast<llama_pos>(slot.cached.size());
  slot.cached.push_back(token);
  batch.n_seq_id[i] = 1;
  batch.seq_id[i][0] = slot.seq;
  batch.logits[i] = wants_logits ? 1 : 0;
  slot.in_batch = true;
  return i;
}

const float* Engine::Impl::logits(int32_t row) const {
  const float* row_logits = llama_get_logits_ith(ctx.get(), row);
  if (!row_logits) {
    throw Error("llama.cpp has no logits for row " + std::to_string(row) + " of the batch");
  }
  return row_logits;
}

void Engine::Impl::step() {
  batch.n_tokens = 0;
  for (auto& slot : slots) {
    slot.output = -1;
    slot.in_batch = false;
    slot.prompt_done = false;
    slot.echo_rows.clear();
  }
  // Every generating slot advances by one token; prompts fill the rest of the batch, so a new
  // request's prompt is processed together with the others' generation.
  for (auto& slot : slots) {
    if (slot.request && slot.next != LLAMA_TOKEN_NULL) {
      slot.output = add_to_batch(slot.next, slot, true);
      slot.next = LLAMA_TOKEN_NULL;
    }
  }
  std::uint64_t prompt_in_batch = 0;
  int echo_rows_left = kEchoRowsPerBatch;
  for (auto& slot : slots) {
    if (!slot.request) continue;
    const auto& prompt = slot.request->prompt;
    const bool scoring = slot.scoring();
    const bool generating = slot.request->params.max_tokens > 0;
    while (slot.prompt_fed < prompt.size() && batch.n_tokens < n_batch) {
      const std::size_t at = slot.prompt_fed;
      const bool last = at + 1 == prompt.size();
      // The logits after a prompt token score the next one; after the last, they are sampled.
      const bool scores_next = scoring && !last;
      if (scores_next && echo_rows_left == 0) break;  // the rest in a later batch
      const int32_t row = add_to_batch(prompt[at], slot, scores_next || (last && generating));
      if (scores_next) {
        slot.echo_rows.emplace_back(row, at + 1);
        --echo_rows_left;
      }
      if (last && generating) slot.output = row;
      slot.prompt_done = last;
      ++slot.prompt_fed;
      ++prompt_in_batch;
    }
  }
  if (batch.n_tokens == 0) return;

  const int32_t rc = llama_decode(ctx.get(), batch);
  if (rc != 0) {
    const auto error = std::make_exception_ptr(Error("llama_decode failed with code " +
                                                     std::to_string(rc) + " on a batch of " +
                                                     std::to_string(batch.n_tokens) + " tokens"));
    TLOG(error) << "llama_decode failed with code " << rc;
    for (auto& slot : slots) {
      if (slot.request && slot.in_batch) fail(slot, error);
    }
    return;
  }
  // Counted before sampling, which may hand a result back: stats() then already includes it.
  const auto sampling = static_cast<std::uint64_t>(
      std::count_if(slots.begin(), slots.end(), [](const Slot& s) { return s.output >= 0; }));
  {
    std::lock_guard lock(mutex);
    prompt_tokens += prompt_in_batch;
    generated_tokens += sampling;
  }
  for (auto& slot : slots) {
    if (!slot.request) continue;
    if (!slot.echo_rows.empty()) score_prompt(slot);
    if (slot.output >= 0) {
      sample(slot);
    } else if (slot.prompt_done && slot.request->params.max_tokens <= 0) {
      finish(slot, FinishReason::length);  // scored the prompt, nothing to generate
    }
  }
}

void Engine::Impl::score_prompt(Slot& slot) {
  Request& request = *slot.request;
  for (const auto& [row, index] : slot.echo_rows) {
    const TokenLogprobs lp =
        token_logprobs(logits(row), n_vocab, request.prompt[index], request.params.top_logprobs);
    Piece& piece = request.prompt_pieces[index];
    piece.logprob = lp.logprob;
    piece.top = alternatives(lp);
  }
  slot.echo_rows.clear();
}

void Engine::Impl::sample(Slot& slot) {
  const SamplingParams& params = slot.request->params;
  const llama_token token = llama_sampler_sample(slot.sampler.get(), ctx.get(), slot.output);
  ++slot.generated;
  if (llama_vocab_is_eog(vocab, token)) return finish(slot, FinishReason::stop);

  Generation::Token next;
  next.bytes = token_bytes(token);
  if (params.top_logprobs >= 0) {
    const TokenLogprobs lp =
        token_logprobs(logits(slot.output), n_vocab, token, params.top_logprobs);
    next.logprob = lp.logprob;
    next.top = alternatives(lp);
  }
  Generation::Outcome outcome;
  try {
    outcome = slot.generation->add(std::move(next));
  } catch (...) {
    return fail(slot, std::current_exception());  // the caller's callback threw
  }
  if (outcome == Generation::Outcome::stop) return finish(slot, FinishReason::stop);
  if (outcome == Generation::Outcome::cancelled) return finish(slot, FinishReason::cancelled);
  const auto in_context = static_cast<int>(slot.request->prompt.size()) + slot.generated;
  if (slot.generated >= params.max_tokens || in_context >= options.ctx_size) {
    return finish(slot, FinishReason::length);
  }
  slot.next = token;
}

void Engine::Impl::finish(Slot& slot, FinishReason reason) {
  FinishReason final_reason;
  try {
    final_reason = slot.generation->finish(reason);
  } catch (...) {
    return fail(slot, std::current_exception());
  }
  CompletionResult result = std::move(slot.generation->result());
  result.finish = final_reason;
  result.prompt_tokens = static_cast<int>(slot.request->prompt.size());
  result.completion_tokens = slot.generated;
  // Scored only in full: a request cancelled mid-prompt has no prompt logprobs.
  if (slot.scoring() && slot.prompt_fed == slot.request->prompt.size() && slot.echo_rows.empty()) {
    slot.scores = slot.request->prompt_pieces;
    slot.scores_top = slot.request->params.top_logprobs;
    result.prompt_pieces = std::move(slot.request->prompt_pieces);
  }
  TLOG(debug) << "slot " << slot.seq << " done: " << result.prompt_tokens << " prompt tokens, "
              << result.completion_tokens << " generated, finish "
              << (final_reason == FinishReason::stop     ? "stop"
                  : final_reason == FinishReason::length ? "length"
                                                         : "cancelled");
  release(slot)->done.set_value(std::move(result));
}

void Engine::Impl::fail(Slot& slot, std::exception_ptr error) {
  forget_cache(slot);  // what a failed batch left in it is unknown
  release(slot)->done.set_exception(std::move(error));
}

std::unique_ptr<Request> Engine::Impl::release(Slot& slot) {
  slot.generation.reset();
  slot.sampler.reset();
  slot.next = LLAMA_TOKEN_NULL;
  slot.output = -1;
  slot.echo_rows.clear();
  auto request = std::move(slot.request);
  std::lock_guard lock(mutex);
  --reserved;
  if (!stopping && !waiting.empty()) {
    admitted.push_back(std::move(waiting.front()));
    waiting.pop_front();
    ++reserved;
  }
  return request;
}

// ---- public ----------------------------------------------------------------------------------

Engine::Engine(const EngineOptions& options, const std::function<void(float)>& progress)
    : impl_(std::make_unique<Impl>(options, progress)) {}

Engine::~Engine() = default;

std::string Engine::model_id() const {
  return impl_->id;
}

bool Engine::is_test_model() const {
  return impl_->general_name == kTinyModelName;
}

std::string Engine::apply_chat_template(const std::vector<ChatMessage>& messages) const {
  return impl_->chat->apply(messages);
}

CompletionResult Engine::complete(const std::string& prompt, const SamplingParams& params,
                                  const PieceCallback& on_piece) {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopping) throw Error("server is stopping");
  }
  auto request = std::make_unique<Request>();
  request->prompt = impl_->tokenize(prompt);
  const auto n_prompt = static_cast<int>(request->prompt.size());
  if (n_prompt == 0) throw InputError("prompt", "is empty: there is nothing to continue");
  check_sampling(params, impl_->n_vocab);
  const int ctx_size = impl_->options.ctx_size;
  if (n_prompt > ctx_size - 1) {
    throw PromptTooLong("prompt is " + std::to_string(n_prompt) + " tokens, but at most " +
                        std::to_string(ctx_size - 1) + " fit a slot's context of " +
                        std::to_string(ctx_size) + " tokens");
  }
  const bool score = params.echo && params.top_logprobs >= 0;
  if (params.max_tokens <= 0 && !score) {
    CompletionResult nothing;
    nothing.finish = FinishReason::length;
    nothing.prompt_tokens = n_prompt;
    return nothing;
  }
  if (score) request->prompt_pieces = impl_->prompt_pieces(prompt, request->prompt);
  request->params = params;
  request->on_piece = &on_piece;
  auto done = request->done.get_future();
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopping) throw Error("server is stopping");
    const int limit = impl_->options.queue_limit;
    if (impl_->reserved < impl_->options.parallel) {
      ++impl_->reserved;
      impl_->admitted.push_back(std::move(request));
    } else if (static_cast<int>(impl_->waiting.size()) < limit) {
      impl_->waiting.push_back(std::move(request));
    } else {
      throw QueueFull("all " + std::to_string(impl_->options.parallel) + " slots are busy and " +
                      std::to_string(limit) + " requests already wait (queue_limit " +
                      std::to_string(limit) + ")");
    }
  }
  impl_->wake.notify_one();
  // No bound needed here: the worker settles every request it holds (generation ends at
  // max_tokens or the context's end), and shutdown() settles every other one.
  return done.get();
}

Engine::Stats Engine::stats() const {
  std::lock_guard lock(impl_->mutex);
  Stats s;
  s.slots = impl_->options.parallel;
  s.busy_slots = impl_->reserved;
  s.queued = static_cast<int>(impl_->waiting.size());
  s.prompt_tokens = impl_->prompt_tokens;
  s.generated_tokens = impl_->generated_tokens;
  return s;
}

void Engine::shutdown() {
  impl_->shutdown();
}

}  // namespace tandem::inference
