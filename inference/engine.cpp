#include "inference/engine.h"

#include "inference/grammar.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <ggml-cpu.h>
#include <llama.h>

#include "common/error.h"
#include "common/files.h"
#include "common/llama/llama_backend.h"
#include "common/log.h"
#include "inference/chat_format.h"
#include "inference/embedder.h"
#include "inference/gpu_devices.h"
#include "inference/memory_estimate.h"
#include "inference/model.h"
#include "inference/prompt_cache.h"
#include "inference/ram_cache.h"
#include "inference/request.h"
#include "inference/request_queue.h"
#include "inference/sampling.h"
#include "inference/slot.h"

namespace tandem::inference {
namespace {

struct ContextFree {
  void operator()(llama_context* c) const { llama_free(c); }
};
struct ThreadpoolFree {
  void operator()(ggml_threadpool* t) const { llama::free_cpu_threadpool(t); }
};

constexpr int kMaxSlots = 256;  // llama.cpp's limit on sequences in one context
// Logit rows for scoring echoed prompts, per decoded batch, shared by all slots. llama.cpp keeps
// a vocabulary-wide row per output (64 rows of a 32k vocabulary: 8 MB), so a long prompt is
// scored over several batches instead of holding a row for each of its tokens.
constexpr int kEchoRowsPerBatch = 64;

const EngineOptions& checked(const EngineOptions& o) {
  if (o.ctx_size < 2) throw Error("ctx_size must be at least 2, not " + std::to_string(o.ctx_size));
  if (o.parallel < 1 || o.parallel > kMaxSlots) {
    throw Error("parallel must be 1 to " + std::to_string(kMaxSlots) + ", not " +
                std::to_string(o.parallel));
  }
  if (o.queue_limit < 0) {
    throw Error("queue_limit must not be negative, not " + std::to_string(o.queue_limit));
  }
  if (o.cache_ram_mib < 0) {
    throw Error("cache_ram_mib must not be negative, not " + std::to_string(o.cache_ram_mib));
  }
  return o;
}

OffloadPlan plan_for(const EngineOptions& o) {
  OffloadPlan none;
  if (o.gpu.n_gpu_layers == 0) return none;
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(o.model, ec);
  if (ec) return none;  // the load says what is wrong with the file
  try {
    return plan_offload(o.gpu, estimate_memory(o.model, bytes, o.ctx_size, o.parallel),
                        gpu_devices());
  } catch (const std::exception& e) {
    none.note = e.what();
    return none;
  }
}

}  // namespace

// Drives llama_decode over the slots, as llama-server's server_context: one worker thread takes
// admitted requests into slots and decodes one batch after another for all of them.
struct Engine::Impl {
  EngineOptions options;
  OffloadPlan offload;
  Model model;
  // ggml's threads for the whole engine's life; without them ggml starts threads for every
  // batch it decodes, which costs milliseconds per request under Wine.
  std::unique_ptr<ggml_threadpool, ThreadpoolFree> threadpool;
  std::unique_ptr<llama_context, ContextFree> ctx;  // after model and threads: freed first
  llama_batch batch{};
  int n_batch = 0;

  RequestQueue queue;
  RamCache ram;
  std::vector<Slot> slots;               // worker thread only
  std::uint64_t uses = 0;                // requests taken up so far (worker thread only)
  std::atomic<std::uint64_t> groups{0};  // requests of several choices so far
  std::atomic<bool> gpu_failed{false};   // on_gpu_failure was called
  // Made by the worker at the first embeddings request: a model only used for generation never
  // pays for its context.
  std::unique_ptr<Embedder> embedder;
  std::unique_ptr<EmbedRequest> embedding;  // being embedded (worker thread only)
  std::thread worker;
  std::mutex join_mutex;

  Impl(const EngineOptions& o, const std::function<void(float)>& progress, OffloadPlan plan);
  ~Impl();

  void warm_up();
  void shutdown();

  // Worker side.
  void run();
  bool any_running() const;
  bool take(std::unique_ptr<Request>& request);
  int leader_of(const Request& request) const;
  void embed_step();
  void share_prompt(Slot& leader);
  void reuse_cache(Slot& slot);
  std::size_t swap_with_ram(Slot& slot, std::size_t keep, bool lost_start);
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

Engine::Impl::Impl(const EngineOptions& o, const std::function<void(float)>& progress,
                   OffloadPlan plan)
    : options(checked(o)),
      offload(std::move(plan)),
      model(options.model, progress, offload),
      queue(options.parallel, options.queue_limit),
      ram(static_cast<std::size_t>(options.cache_ram_mib) << 20) {
  const int threads = llama::effective_threads(options.threads);
  ggml_threadpool_params tp = ggml_threadpool_params_default(threads);
  // They sleep as soon as a batch is done (llama-server's threads spin on for ~0.2 s: a core
  // taken from the trainer and everything else on the machine after every answer).
  tp.poll = 0;
  threadpool.reset(llama::new_cpu_threadpool(tp));
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

  TLOG(info) << "model " << model.id() << " loaded from " << path_utf8(options.model) << ": "
             << options.parallel << " slots of " << options.ctx_size << " tokens, " << threads
             << " threads; " << offload_text(offload);
  worker = std::thread([this] { run(); });
}

Engine::Impl::~Impl() {
  shutdown();
  if (batch.token) llama_batch_free(batch);
}

void Engine::Impl::warm_up() {
  // The first decode maps the weights in and sizes ggml's buffers; done before the server says
  // it is ready, so that its first request runs at full speed (as llama-server does).
  std::vector<llama_token> tokens;
  for (const llama_token t : {llama_vocab_bos(model.vocab()), llama_vocab_eos(model.vocab())}) {
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

void Engine::Impl::shutdown() {
  for (auto& r : queue.stop()) {
    r->done.set_exception(std::make_exception_ptr(Error("server is stopping")));
  }
  for (auto& r : queue.drop_embeddings()) {
    r->done.set_exception(std::make_exception_ptr(Error("server is stopping")));
  }
  std::lock_guard join_lock(join_mutex);
  // From a piece callback (the worker itself) the join is left to the destructor.
  if (worker.joinable() && worker.get_id() != std::this_thread::get_id()) worker.join();
}

// ---- worker ----------------------------------------------------------------------------------

void Engine::Impl::run() {
  const RequestQueue::Take take_up = [this](std::unique_ptr<Request>& r) { return take(r); };
  while (queue.wait_for_work(any_running() || embedding != nullptr, take_up)) {
    embed_step();
    try {
      step();
    } catch (const std::exception& e) {
      TLOG(error) << "inference step failed: " << e.what();
      if (offload.n_gpu_layers > 0 && options.on_gpu_failure && !gpu_failed.exchange(true)) {
        options.on_gpu_failure(offload_text(offload) + ": " + e.what());
      }
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
  if (embedding)
    embedding->done.set_exception(std::make_exception_ptr(Error("server is stopping")));
}

// One batch of the embeddings request being served, between two decode steps of generation.
void Engine::Impl::embed_step() {
  if (!embedding) embedding = queue.take_embedding();
  if (!embedding) return;
  try {
    if (!embedder) {
      embedder = std::make_unique<Embedder>(model, options.ctx_size, threadpool.get(),
                                            llama::effective_threads(options.threads));
    }
    if (!embedder->step(*embedding)) return;
    embedding->done.set_value(std::move(embedding->result));
  } catch (const std::exception& e) {
    TLOG(error) << "embeddings failed: " << e.what();
    embedding->done.set_exception(std::current_exception());
  }
  embedding.reset();
}

bool Engine::Impl::any_running() const {
  return std::any_of(slots.begin(), slots.end(), [](const Slot& s) { return bool(s.request); });
}

bool Engine::Impl::take(std::unique_ptr<Request>& request) {
  std::vector<const SlotCache*> caches;
  caches.reserve(slots.size());
  for (const auto& slot : slots) caches.push_back(slot.request ? nullptr : &slot.cache);
  const auto chosen = choose_slot(caches, request->prompt);
  if (!chosen) return false;
  Slot& slot = slots[*chosen];
  slot.cache.last_used = ++uses;
  const int leader = request->choice > 0 ? leader_of(*request) : -1;
  slot.start(std::move(request), model.n_vocab());
  if (leader >= 0) {
    slot.copy_from = leader;  // its cache is replaced by the leader's once the prompt is in
    return true;
  }
  reuse_cache(slot);
  return true;
}

// The slot of choice 0 of `request`'s group while it has not sampled yet (its KV sequence is
// still the prompt to share), else -1: the choice then feeds the prompt itself.
int Engine::Impl::leader_of(const Request& request) const {
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const Slot& s = slots[i];
    if (s.request && s.request->group == request.group && s.request->choice == 0 &&
        s.generated == 0 && s.next == LLAMA_TOKEN_NULL) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

// `leader` decoded the prompt of a request of several choices: each further choice takes a copy
// of its KV sequence and samples its first token from the same logits.
void Engine::Impl::share_prompt(Slot& leader) {
  const int index = static_cast<int>(&leader - slots.data());
  llama_memory_t memory = llama_get_memory(ctx.get());
  for (auto& slot : slots) {
    if (!slot.request || slot.copy_from != index) continue;
    slot.copy_from = -1;
    llama_memory_seq_rm(memory, slot.seq, -1, -1);
    llama_memory_seq_cp(memory, leader.seq, slot.seq, -1, -1);
    slot.cache.clear();
    slot.cache.tokens = leader.cache.tokens;
    slot.prompt_fed = slot.request->prompt.size();
    slot.output = leader.output;
    queue.count(0, 1);
    sample(slot);
    slot.output = -1;  // sampled: the loop over the slots must not sample it again
  }
}

void Engine::Impl::reuse_cache(Slot& slot) {
  const Request& request = *slot.request;
  llama_memory_t memory = llama_get_memory(ctx.get());
  const bool lost_start = llama_memory_seq_pos_min(memory, slot.seq) > 0;
  const auto score_top =
      slot.scoring() ? std::optional<int>(request.params.top_logprobs) : std::nullopt;
  std::size_t keep = slot.cache.reusable(request.prompt, score_top, lost_start);
  // A scored prompt needs the logprobs kept with a slot's cache, which a saved state lacks.
  if (ram.enabled() && !score_top) keep = swap_with_ram(slot, keep, lost_start);
  if (keep > 0 && !llama_memory_seq_rm(memory, slot.seq, static_cast<llama_pos>(keep), -1)) {
    keep = 0;
  }
  if (keep == 0) return forget_cache(slot);
  slot.resume_from(keep);
}

// A prompt that keeps less than half of what `slot` holds: what it holds goes to the RAM cache,
// and a saved state that starts as the prompt does, longer than the `keep` tokens the slot
// offers, comes back into the slot. Returns how much of the slot's cache the prompt now keeps.
std::size_t Engine::Impl::swap_with_ram(Slot& slot, std::size_t keep, bool lost_start) {
  const auto& prompt = slot.request->prompt;
  auto restored = ram.take(prompt, keep);
  if (!lost_start && RamCache::worth_saving(slot.cache.tokens.size(), keep)) {
    SavedState saved;
    saved.state.resize(llama_state_seq_get_size(ctx.get(), slot.seq));
    const std::size_t written =
        llama_state_seq_get_data(ctx.get(), saved.state.data(), saved.state.size(), slot.seq);
    if (written == saved.state.size()) {
      saved.tokens = slot.cache.tokens;
      ram.put(std::move(saved));
    } else {
      TLOG(warning) << "slot " << slot.seq << ": llama_state_seq_get_data wrote " << written
                    << " of " << saved.state.size() << " bytes; the state is not kept in RAM";
    }
  }
  if (!restored) return keep;
  llama_memory_t memory = llama_get_memory(ctx.get());
  llama_memory_seq_rm(memory, slot.seq, -1, -1);
  slot.cache.clear();
  if (llama_state_seq_set_data(ctx.get(), restored->state.data(), restored->state.size(),
                               slot.seq) == 0) {
    TLOG(warning) << "slot " << slot.seq << ": llama_state_seq_set_data refused a saved state of "
                  << restored->tokens.size() << " tokens; the prompt is decoded in full";
    llama_memory_seq_rm(memory, slot.seq, -1, -1);
    return 0;
  }
  slot.cache.tokens = std::move(restored->tokens);
  TLOG(debug) << "slot " << slot.seq << ": restored " << slot.cache.tokens.size()
              << " tokens from the RAM cache";
  return slot.cache.reusable(prompt, std::nullopt, false);
}

void Engine::Impl::forget_cache(Slot& slot) {
  llama_memory_seq_rm(llama_get_memory(ctx.get()), slot.seq, -1, -1);
  slot.resume_from(0);
}

int32_t Engine::Impl::add_to_batch(llama_token token, Slot& slot, bool wants_logits) {
  const int32_t i = batch.n_tokens++;
  batch.token[i] = token;
  batch.pos[i] = static_cast<llama_pos>(slot.cache.tokens.size());
  slot.cache.tokens.push_back(token);
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
  for (auto& slot : slots) slot.begin_step();
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
    if (!slot.request || slot.copy_from >= 0) continue;
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
  queue.count(prompt_in_batch, sampling);
  for (auto& slot : slots) {
    if (!slot.request || slot.copy_from >= 0) continue;
    if (!slot.echo_rows.empty()) score_prompt(slot);
    if (slot.output >= 0) {
      if (slot.prompt_done) share_prompt(slot);
      sample(slot);
    } else if (slot.prompt_done && slot.request->params.max_tokens <= 0) {
      finish(slot, FinishReason::length);  // scored the prompt, nothing to generate
    }
  }
}

void Engine::Impl::score_prompt(Slot& slot) {
  Request& request = *slot.request;
  for (const auto& [row, index] : slot.echo_rows) {
    const TokenLogprobs lp = token_logprobs(logits(row), model.n_vocab(), request.prompt[index],
                                            request.params.top_logprobs);
    Piece& piece = request.prompt_pieces[index];
    piece.logprob = lp.logprob;
    piece.top = model.alternatives(lp);
  }
  slot.echo_rows.clear();
}

void Engine::Impl::sample(Slot& slot) {
  const SamplingParams& params = slot.request->params;
  const llama_token token = llama_sampler_sample(slot.sampler.get(), ctx.get(), slot.output);
  ++slot.generated;
  if (llama_vocab_is_eog(model.vocab(), token)) return finish(slot, FinishReason::stop);

  Generation::Token next;
  next.bytes = model.token_bytes(token);
  if (params.top_logprobs >= 0) {
    const TokenLogprobs lp =
        token_logprobs(logits(slot.output), model.n_vocab(), token, params.top_logprobs);
    next.logprob = lp.logprob;
    next.top = model.alternatives(lp);
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
  if (auto scored = slot.take_scored_prompt(); !scored.empty()) {
    result.prompt_pieces = std::move(scored);
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
  release(slot)->done.set_exception(error);
  const int index = static_cast<int>(&slot - slots.data());
  for (auto& follower : slots) {  // choices waiting for the prompt it was decoding
    if (follower.request && follower.copy_from == index) fail(follower, error);
  }
}

std::unique_ptr<Request> Engine::Impl::release(Slot& slot) {
  auto request = slot.release();
  queue.release_slot();
  return request;
}

// ---- public ----------------------------------------------------------------------------------

Engine::Engine(const EngineOptions& options, const std::function<void(float)>& progress) {
  OffloadPlan plan = plan_for(options);
  try {
    impl_ = std::make_unique<Impl>(options, progress, plan);
  } catch (const std::exception& e) {
    if (plan.n_gpu_layers == 0) throw;
    TLOG(warning) << "model " << path_utf8(options.model) << " failed on the GPU ("
                  << offload_text(plan) << "): " << e.what() << "; loading it on the CPU";
    OffloadPlan cpu;
    cpu.offloadable = plan.offloadable;
    cpu.note = "the GPU failed: " + std::string(e.what());
    impl_ = std::make_unique<Impl>(options, progress, std::move(cpu));
  }
}

Engine::~Engine() = default;

std::string Engine::model_id() const {
  return impl_->options.id.empty() ? impl_->model.id() : impl_->options.id;
}

bool Engine::is_test_model() const {
  return impl_->model.is_test_model();
}

ChatPrompt Engine::apply_chat(const std::vector<ChatMessage>& messages,
                              const ChatOptions& options) const {
  return render_chat(impl_->model.chat(), messages, options);
}

CompletionResult Engine::complete(const std::string& prompt, const SamplingParams& params,
                                  const PieceCallback& on_piece) {
  ChoicePieceCallback each;
  if (on_piece) each = [&on_piece](int, const Piece& piece) { return on_piece(piece); };
  return std::move(complete_choices(prompt, params, 1, each).front());
}

std::vector<CompletionResult> Engine::complete_choices(const std::string& prompt,
                                                       const SamplingParams& params, int n,
                                                       const ChoicePieceCallback& on_piece) {
  if (n < 1 || n > impl_->options.parallel) {
    throw InputError("n", "expected 1 to " + std::to_string(impl_->options.parallel) +
                              " (the server's parallel slots), got " + std::to_string(n));
  }
  const bool score = params.echo && params.top_logprobs >= 0;
  // Scoring only (max_tokens 0) gives every choice the same answer: one request computes it.
  const int requests = params.max_tokens > 0 ? n : 1;
  // Admitted before any work is done for it, so that an overloaded server refuses cheaply.
  auto admission = impl_->queue.admit(requests);
  std::vector<Token> tokens = impl_->model.tokenize(prompt);
  const auto n_prompt = static_cast<int>(tokens.size());
  if (n_prompt == 0) throw InputError("prompt", "is empty: there is nothing to continue");
  check_sampling(params, impl_->model.n_vocab());
  // Parsed here, on the caller's thread: a bad grammar is refused before the request queues.
  const std::shared_ptr<llama_sampler> grammar =
      make_grammar_sampler(params.grammar, impl_->model, tokens);
  const int ctx_size = impl_->options.ctx_size;
  if (n_prompt > ctx_size - 1) {
    throw PromptTooLong("prompt is " + std::to_string(n_prompt) + " tokens, but at most " +
                        std::to_string(ctx_size - 1) + " fit a slot's context of " +
                        std::to_string(ctx_size) + " tokens");
  }
  if (params.max_tokens <= 0 && !score) {
    CompletionResult nothing;
    nothing.finish = FinishReason::length;
    nothing.prompt_tokens = n_prompt;
    return std::vector<CompletionResult>(static_cast<std::size_t>(n), nothing);
  }
  const std::uint64_t group = ++impl_->groups;
  std::vector<PieceCallback> callbacks(static_cast<std::size_t>(requests));
  std::vector<std::unique_ptr<Request>> choices;
  std::vector<std::future<CompletionResult>> done;
  for (int i = 0; i < requests; ++i) {
    auto request = std::make_unique<Request>();
    request->prompt = tokens;
    request->group = group;
    request->choice = i;
    request->params = params;
    request->grammar = grammar;  // each choice's slot samples with its own copy
    if (params.seed && i > 0) request->params.seed = *params.seed + static_cast<std::uint32_t>(i);
    if (score && i == 0) request->prompt_pieces = impl_->model.prompt_pieces(prompt, tokens);
    if (on_piece) {
      callbacks[static_cast<std::size_t>(i)] = [&on_piece, i](const Piece& piece) {
        return on_piece(i, piece);
      };
    }
    request->on_piece = &callbacks[static_cast<std::size_t>(i)];
    done.push_back(request->done.get_future());
    choices.push_back(std::move(request));
  }
  impl_->queue.submit(std::move(admission), std::move(choices));
  // No bound needed here: the worker settles every request it holds (generation ends at
  // max_tokens or the context's end), and shutdown() settles every other one. Every choice is
  // waited for, even after one failed: they all use this frame's callbacks.
  std::vector<CompletionResult> results;
  std::exception_ptr error;
  for (auto& d : done) {
    try {
      results.push_back(d.get());
    } catch (...) {
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
  while (static_cast<int>(results.size()) < n) results.push_back(results.front());
  return results;
}

Embeddings Engine::embed(const std::vector<EmbeddingInput>& inputs) {
  auto admission = impl_->queue.admit(1);  // before any tokenizing, as for completions
  const int max_tokens = impl_->options.ctx_size;
  auto request = std::make_unique<EmbedRequest>();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::string name = "input[" + std::to_string(i) + "]";
    std::vector<Token> tokens;
    if (const auto* text = std::get_if<std::string>(&inputs[i])) {
      if (text->empty()) throw InputError(name, "must not be empty");
      tokens = impl_->model.tokenize(*text);
    } else {
      tokens = std::get<std::vector<std::int32_t>>(inputs[i]);
      if (tokens.empty()) throw InputError(name, "must not be empty");
      check_tokens(tokens, name);
    }
    if (static_cast<int>(tokens.size()) > max_tokens) {
      throw InputError(name, "is " + std::to_string(tokens.size()) + " tokens, but at most " +
                                 std::to_string(max_tokens) + " fit the context");
    }
    request->result.prompt_tokens += static_cast<int>(tokens.size());
    request->inputs.push_back(std::move(tokens));
  }
  if (request->inputs.empty()) throw InputError("input", "must not be empty");
  auto done = request->done.get_future();
  impl_->queue.submit_embedding(std::move(admission), std::move(request));
  return done.get();  // settled by the worker, or by shutdown()
}

int Engine::embedding_size() const {
  return llama_model_n_embd(impl_->model.get());
}

void Engine::check_tokens(const std::vector<std::int32_t>& tokens, const std::string& name) const {
  const int n_vocab = impl_->model.n_vocab();
  for (std::size_t j = 0; j < tokens.size(); ++j) {
    if (tokens[j] < 0 || tokens[j] >= n_vocab) {
      throw InputError(name + "[" + std::to_string(j) + "]",
                       "token id " + std::to_string(tokens[j]) +
                           " is not in the model's vocabulary (0 to " +
                           std::to_string(n_vocab - 1) + ")");
    }
  }
}

std::vector<std::int32_t> Engine::tokenize(const std::string& text, bool add_special,
                                           bool parse_special) const {
  return impl_->model.tokenize(text, add_special, parse_special);
}

std::string Engine::token_piece(std::int32_t token) const {
  check_tokens({token}, "token");
  return impl_->model.token_bytes(token, true);
}

std::string Engine::detokenize(const std::vector<std::int32_t>& tokens) const {
  check_tokens(tokens, "tokens");
  std::string text;
  for (const auto token : tokens) text += impl_->model.token_bytes(token, true);
  return text;
}

Engine::Stats Engine::stats() const {
  Stats s = impl_->queue.stats();
  const RamCache::Stats ram = impl_->ram.stats();
  s.cache_ram_hits = ram.hits;
  s.cache_ram_misses = ram.misses;
  s.cache_ram_bytes = ram.bytes;
  const OffloadPlan& plan = impl_->offload;
  s.model_layers = plan.offloadable;
  for (std::size_t i = 0; i < plan.devices.size(); ++i) {
    s.gpu_layers.push_back({plan.devices[i].name, plan.devices[i].description, plan.layers[i]});
  }
  return s;
}

const OffloadPlan& Engine::offload() const {
  return impl_->offload;
}

void Engine::shutdown() {
  impl_->shutdown();
}

}  // namespace tandem::inference
