// Many models in one service (docs/architecture.md#models-folder): the default model, loaded at
// start and kept, and the folder's models, loaded on a request's first use — once however many
// requests arrive together — evicted least-recently-used past `max_loaded`, unloaded when idle
// past their keep_alive. Loading is injected (an Engine in the service, fakes in unit tests).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "inference/completion.h"
#include "service/models/model_catalog.h"

namespace tandem::models {

enum class ModelState { unloaded, loading, loaded, failed };
const char* to_string(ModelState state);

struct ModelInfo {
  std::string id;
  std::filesystem::path file;
  std::uint64_t bytes = 0;
  ModelState state = ModelState::unloaded;
  std::string error;  // why it failed (or did not fit, the last time it was asked for)
  bool is_default = false;
  bool test_model = false;  // loaded, and the bundled random-weight model
  bool removed = false;     // gone from the folder (its last event)
  std::vector<std::string> aliases;
  int in_flight = 0;
  // Loaded: its layers (the output layer counts) and how many each GPU holds (n_gpu_layers).
  int layers = 0;
  std::vector<inference::CompletionBackend::Stats::DeviceLayers> gpu_layers;
};

struct ModelEvent {
  std::uint64_t seq = 0;
  ModelInfo model;
};

// No model by that name: the API answers 404 model_not_found.
class ModelNotFound : public Error {
 public:
  using Error::Error;
};
// Cannot be served now (it does not fit in memory, or every loaded model is busy): 503.
class ModelUnavailable : public Error {
 public:
  using Error::Error;
};
// Loading it failed (corrupt, truncated, unsupported): 500 model_load_failed, until its file
// changes.
class ModelLoadFailed : public Error {
 public:
  using Error::Error;
};

struct RouterOptions {
  int max_loaded = 3;                              // the default model counts
  KeepAlive keep_alive{300};                       // for models whose settings name none
  std::chrono::milliseconds wait_for_room{30000};  // for a busy model to go idle, before a 503
};

class ModelRouter {
 public:
  using Backend = inference::CompletionBackend;
  // Loads a catalog entry; throws ModelUnavailable when it cannot fit, anything else on failure.
  using Loader = std::function<std::shared_ptr<Backend>(const CatalogEntry&)>;

  class Lease;

  ModelRouter(RouterOptions options, Loader loader);
  ~ModelRouter();
  ModelRouter(const ModelRouter&) = delete;
  ModelRouter& operator=(const ModelRouter&) = delete;

  // The model requests without a `model` use: loaded, never evicted nor unloaded. A default set
  // again replaces the one before, which unloads once its requests in flight end.
  void set_default(CatalogEntry entry, std::shared_ptr<Backend> loaded);
  // A changed llm-server.json: applies to the next load and the next idle check.
  void set_limits(int max_loaded, KeepAlive keep_alive);
  // The folder as scanned now: new models are added unloaded, a changed file may be tried again,
  // a removed model goes (once idle, if loaded).
  void set_catalog(const std::vector<CatalogEntry>& entries);
  // Called before answering "not found", to look at the folder once more.
  void set_rescan(std::function<void()> rescan);

  // The model by id or alias ("" is the default), loaded if need be; `keep_alive` replaces the
  // model's own from now on. Throws ModelNotFound, ModelUnavailable, ModelLoadFailed.
  Lease acquire(const std::string& name, std::optional<KeepAlive> keep_alive = {});
  // Unloads a loaded model now, or once its requests in flight end; ModelNotFound, or InputError
  // for the default model.
  void unload(const std::string& name);

  std::vector<ModelInfo> list() const;  // the default first, then by id
  // State changes after `after`, waiting up to `timeout` for one; empty on timeout or shutdown.
  std::vector<ModelEvent> events_after(std::uint64_t after, std::chrono::milliseconds timeout);
  std::uint64_t last_event() const;

  // Ends every wait and the idle timer; loaded models unload as the router is destroyed.
  void shutdown();
  bool stopped() const;

 private:
  struct Entry;
  using EntryPtr = std::shared_ptr<Entry>;

  EntryPtr find(const std::string& name) const;
  std::string not_found_message(const std::string& name) const;
  int occupied() const;  // loaded or loading
  EntryPtr eviction_candidate() const;
  KeepAlive keep_alive_of(const Entry& e) const;
  ModelInfo info(const Entry& e) const;
  void changed(const Entry& e);
  std::shared_ptr<Backend> take_backend(Entry& e);  // unloads; destroy the result unlocked
  void release(const EntryPtr& e);
  void forget(const EntryPtr& e);  // erases `e` from entries_ if it is still there
  void reap_idle();

  RouterOptions options_;  // max_loaded and keep_alive change with set_limits
  const Loader loader_;
  std::function<void()> rescan_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::map<std::string, EntryPtr> entries_;
  std::string default_id_;
  std::deque<ModelEvent> events_;
  std::uint64_t seq_ = 0;
  bool stopping_ = false;
  std::thread reaper_;
};

// A model in use: it stays loaded while the lease lives.
class ModelRouter::Lease {
 public:
  Lease() = default;
  Lease(Lease&& other) noexcept;
  Lease& operator=(Lease&& other) noexcept;
  ~Lease();

  Backend& operator*() const { return *backend_; }
  Backend* operator->() const { return backend_.get(); }
  Backend* get() const { return backend_.get(); }

 private:
  friend class ModelRouter;
  Lease(ModelRouter* router, EntryPtr entry, std::shared_ptr<Backend> backend);
  void reset();

  ModelRouter* router_ = nullptr;
  EntryPtr entry_;
  std::shared_ptr<Backend> backend_;
};

}  // namespace tandem::models
