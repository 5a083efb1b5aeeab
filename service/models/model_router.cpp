#include "service/models/model_router.h"

#include <algorithm>

#include "common/files.h"
#include "common/log.h"

namespace tandem::models {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kEventsKept = 256;

}  // namespace

struct ModelRouter::Entry {
  CatalogEntry catalog;
  bool is_default = false;
  bool removed = false;  // gone from the folder: erased once unloaded
  ModelState state = ModelState::unloaded;
  std::string error;
  std::shared_ptr<Backend> backend;
  int in_flight = 0;
  Clock::time_point last_used{};
  std::optional<KeepAlive> keep_alive;  // a request's, replacing the settings'
};

const char* to_string(ModelState state) {
  switch (state) {
    case ModelState::unloaded:
      return "unloaded";
    case ModelState::loading:
      return "loading";
    case ModelState::loaded:
      return "loaded";
    case ModelState::failed:
      return "failed";
  }
  return "unknown";
}

ModelRouter::ModelRouter(RouterOptions options, Loader loader)
    : options_(options), loader_(std::move(loader)) {
  reaper_ = std::thread([this] { reap_idle(); });
}

ModelRouter::~ModelRouter() {
  shutdown();
  if (reaper_.joinable()) reaper_.join();
  std::vector<std::shared_ptr<Backend>> unloaded;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, e] : entries_) unloaded.push_back(std::move(e->backend));
    entries_.clear();
  }
}

void ModelRouter::shutdown() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
}

bool ModelRouter::stopped() const {
  std::lock_guard lock(mutex_);
  return stopping_;
}

void ModelRouter::set_rescan(std::function<void()> rescan) {
  std::lock_guard lock(mutex_);
  rescan_ = std::move(rescan);
}

void ModelRouter::set_limits(int max_loaded, KeepAlive keep_alive) {
  {
    std::lock_guard lock(mutex_);
    options_.max_loaded = max_loaded;
    options_.keep_alive = keep_alive;
  }
  cv_.notify_all();  // the idle timer looks again
}

void ModelRouter::set_default(CatalogEntry entry, std::shared_ptr<Backend> loaded) {
  std::shared_ptr<Backend> unloaded;  // the old default's, destroyed unlocked
  std::lock_guard lock(mutex_);
  if (auto old = entries_.find(default_id_); old != entries_.end()) {
    Entry& o = *old->second;
    o.is_default = false;
    o.removed = true;  // goes once idle (it may also be a model of the folder: then it stays)
    TLOG(info) << "model " << default_id_ << " is no longer the default";
    if (o.in_flight == 0) {
      unloaded = take_backend(o);
      changed(o);
      entries_.erase(old);
    }
  }
  auto e = std::make_shared<Entry>();
  e->catalog = std::move(entry);
  e->is_default = true;
  e->state = ModelState::loaded;
  e->backend = std::move(loaded);
  e->last_used = Clock::now();
  default_id_ = e->catalog.id;
  entries_[default_id_] = e;
  changed(*e);
}

void ModelRouter::set_catalog(const std::vector<CatalogEntry>& entries) {
  std::vector<std::shared_ptr<Backend>> unloaded;  // destroyed after the lock is released
  {
    std::lock_guard lock(mutex_);
    std::map<std::string, const CatalogEntry*> now;
    for (const auto& c : entries) now[c.id] = &c;
    for (auto it = entries_.begin(); it != entries_.end();) {
      Entry& e = *it->second;
      if (e.is_default || now.count(it->first)) {
        ++it;
        continue;
      }
      e.removed = true;
      if (e.state == ModelState::loaded && e.in_flight == 0) unloaded.push_back(take_backend(e));
      if (e.state == ModelState::loaded || e.state == ModelState::loading) {
        ++it;
        continue;
      }
      TLOG(info) << "model " << it->first << " left the models folder";
      changed(e);
      it = entries_.erase(it);
    }
    for (const auto& c : entries) {
      auto found = entries_.find(c.id);
      if (found == entries_.end()) {
        auto e = std::make_shared<Entry>();
        e->catalog = c;
        if (!c.problem.empty()) {
          e->state = ModelState::failed;
          e->error = c.problem;
        }
        entries_[c.id] = e;
        TLOG(info) << "model " << c.id << " found: " << path_utf8(c.file) << ", " << c.bytes
                   << " bytes" << (c.problem.empty() ? "" : " (" + c.problem + ")");
        changed(*e);
        continue;
      }
      Entry& e = *found->second;
      if (e.is_default) continue;  // the default is the configured file, kept as loaded
      const bool new_file = !e.catalog.same_file(c);
      e.catalog = c;
      e.removed = false;
      if (new_file && e.state == ModelState::failed) {
        // A fixed or completed file gets another try.
        e.state = c.problem.empty() ? ModelState::unloaded : ModelState::failed;
        e.error = c.problem;
        changed(e);
      }
    }
  }
  cv_.notify_all();
}

void ModelRouter::forget(const EntryPtr& e) {
  // Only this entry: a new default may have taken its id while its last request ran.
  if (auto it = entries_.find(e->catalog.id); it != entries_.end() && it->second == e) {
    entries_.erase(it);
  }
}

ModelRouter::EntryPtr ModelRouter::find(const std::string& name) const {
  if (name.empty()) {
    auto it = entries_.find(default_id_);
    return it == entries_.end() ? nullptr : it->second;
  }
  if (auto it = entries_.find(name); it != entries_.end()) return it->second;
  for (const auto& [id, e] : entries_) {
    const auto& a = e->catalog.settings.aliases;
    if (std::find(a.begin(), a.end(), name) != a.end()) return e;
  }
  return nullptr;
}

std::string ModelRouter::not_found_message(const std::string& name) const {
  std::string known;
  for (const auto& [id, e] : entries_) {
    known += (known.empty() ? "" : ", ") + id + (e->is_default ? " (default)" : "");
  }
  // A name is echoed up to 100 bytes: the error of a hostile megabyte name stays small.
  const std::string shown = name.size() > 100 ? name.substr(0, 100) + "..." : name;
  return "model '" + shown + "' does not exist; models here: " + (known.empty() ? "none" : known);
}

int ModelRouter::occupied() const {
  int n = 0;
  for (const auto& [id, e] : entries_) {
    n += e->state == ModelState::loaded || e->state == ModelState::loading;
  }
  return n;
}

ModelRouter::EntryPtr ModelRouter::eviction_candidate() const {
  EntryPtr best;
  for (const auto& [id, e] : entries_) {
    if (e->is_default || e->state != ModelState::loaded || e->in_flight > 0) continue;
    if (!best || e->last_used < best->last_used) best = e;
  }
  return best;
}

KeepAlive ModelRouter::keep_alive_of(const Entry& e) const {
  if (e.keep_alive) return *e.keep_alive;
  return e.catalog.settings.keep_alive.value_or(options_.keep_alive);
}

ModelInfo ModelRouter::info(const Entry& e) const {
  ModelInfo m;
  m.id = e.catalog.id;
  m.file = e.catalog.file;
  m.bytes = e.catalog.bytes;
  m.state = e.state;
  m.error = e.error;
  m.is_default = e.is_default;
  m.test_model = e.backend && e.backend->is_test_model();
  m.aliases = e.catalog.settings.aliases;
  m.in_flight = e.in_flight;
  m.removed = e.removed && e.state != ModelState::loaded && e.state != ModelState::loading;
  if (e.backend) {
    auto stats = e.backend->stats();
    m.layers = stats.model_layers;
    m.gpu_layers = std::move(stats.gpu_layers);
  }
  return m;
}

void ModelRouter::changed(const Entry& e) {
  events_.push_back(ModelEvent{++seq_, info(e)});
  if (events_.size() > kEventsKept) events_.pop_front();
  cv_.notify_all();
}

std::shared_ptr<ModelRouter::Backend> ModelRouter::take_backend(Entry& e) {
  TLOG(info) << "model " << e.catalog.id << " unloaded";
  e.state = ModelState::unloaded;
  changed(e);
  return std::move(e.backend);
}

ModelRouter::Lease ModelRouter::acquire(const std::string& name,
                                        std::optional<KeepAlive> keep_alive) {
  std::unique_lock lock(mutex_);
  EntryPtr e = find(name);
  if (!e && rescan_) {
    auto rescan = rescan_;
    lock.unlock();
    rescan();  // a model just copied in is served on its first request
    lock.lock();
    e = find(name);
  }
  if (!e) throw ModelNotFound(not_found_message(name));
  if (keep_alive && !e->is_default) e->keep_alive = *keep_alive;
  const auto room_deadline = Clock::now() + options_.wait_for_room;
  for (;;) {
    if (stopping_) throw ModelUnavailable("the server is stopping");
    switch (e->state) {
      case ModelState::loaded:
        ++e->in_flight;
        e->last_used = Clock::now();
        return Lease(this, e, e->backend);
      case ModelState::loading:
        cv_.wait(lock, [&] { return stopping_ || e->state != ModelState::loading; });
        continue;
      case ModelState::failed:
        throw ModelLoadFailed("model '" + e->catalog.id + "' failed to load: " + e->error);
      case ModelState::unloaded:
        break;
    }
    if (e->removed) throw ModelNotFound(not_found_message(name));
    if (occupied() >= options_.max_loaded) {
      if (EntryPtr victim = eviction_candidate()) {
        TLOG(info) << "evicting model " << victim->catalog.id << " (least recently used) for "
                   << e->catalog.id << ": max_loaded_models is " << options_.max_loaded;
        auto unloaded = take_backend(*victim);
        if (victim->removed) {
          changed(*victim);
          forget(victim);
        }
        lock.unlock();
        unloaded.reset();
        lock.lock();
        continue;
      }
      if (cv_.wait_until(lock, room_deadline) == std::cv_status::timeout) {
        throw ModelUnavailable("cannot load model '" + e->catalog.id + "': max_loaded_models (" +
                               std::to_string(options_.max_loaded) +
                               ") are loaded and all of them have requests in flight");
      }
      continue;
    }
    break;
  }
  e->state = ModelState::loading;
  e->error.clear();
  changed(*e);
  const CatalogEntry catalog = e->catalog;
  lock.unlock();
  TLOG(info) << "loading model " << catalog.id << " from " << path_utf8(catalog.file);
  const auto started = Clock::now();
  std::shared_ptr<Backend> backend;
  try {
    backend = loader_(catalog);
  } catch (const ModelUnavailable& ex) {
    lock.lock();
    e->state = ModelState::unloaded;  // it may fit later
    e->error = ex.what();
    changed(*e);
    TLOG(warning) << "model " << catalog.id << " not loaded: " << ex.what();
    throw;
  } catch (const std::exception& ex) {
    lock.lock();
    e->state = ModelState::failed;
    e->error = ex.what();
    changed(*e);
    TLOG(error) << "model " << catalog.id << " failed to load: " << ex.what();
    throw ModelLoadFailed("model '" + catalog.id + "' failed to load: " + ex.what());
  }
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  TLOG(info) << "model " << catalog.id << " loaded in " << ms << " ms";
  lock.lock();
  e->backend = backend;
  e->state = ModelState::loaded;
  ++e->in_flight;
  e->last_used = Clock::now();
  changed(*e);
  return Lease(this, e, std::move(backend));
}

void ModelRouter::unload(const std::string& name) {
  std::shared_ptr<Backend> unloaded;
  {
    std::lock_guard lock(mutex_);
    EntryPtr e = find(name);
    if (!e) throw ModelNotFound(not_found_message(name));
    if (e->is_default) {
      throw InputError("model", "'" + e->catalog.id +
                                    "' is the default model: it stays loaded (change `model` "
                                    "in llm-server.json to serve another)");
    }
    if (e->state != ModelState::loaded) return;
    if (e->in_flight > 0) {
      e->keep_alive = KeepAlive::zero();  // unloads as its last request ends
      return;
    }
    unloaded = take_backend(*e);
  }
}

void ModelRouter::release(const EntryPtr& e) {
  std::shared_ptr<Backend> unloaded;
  {
    std::lock_guard lock(mutex_);
    --e->in_flight;
    e->last_used = Clock::now();
    if (e->in_flight == 0 && !e->is_default && e->state == ModelState::loaded &&
        (e->removed || keep_alive_of(*e) == KeepAlive::zero())) {
      unloaded = take_backend(*e);
      if (e->removed) {
        changed(*e);
        forget(e);
      }
    }
    cv_.notify_all();  // room for a waiting load; a new idle deadline
  }
}

void ModelRouter::reap_idle() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    std::optional<Clock::time_point> next;
    std::vector<std::shared_ptr<Backend>> unloaded;
    const auto now = Clock::now();
    for (auto& [id, e] : entries_) {
      if (e->is_default || e->state != ModelState::loaded || e->in_flight > 0) continue;
      const KeepAlive k = keep_alive_of(*e);
      if (k < KeepAlive::zero()) continue;
      const auto due = e->last_used + k;
      if (due <= now) {
        TLOG(info) << "model " << id << " idle for " << keep_alive_text(k);
        unloaded.push_back(take_backend(*e));
      } else if (!next || due < *next) {
        next = due;
      }
    }
    if (!unloaded.empty()) {
      lock.unlock();
      unloaded.clear();
      lock.lock();
      continue;
    }
    // Sleeps until the next model is due, or until something changes: no timer while nothing
    // is loaded beyond the default.
    if (next) {
      cv_.wait_until(lock, *next);
    } else {
      cv_.wait(lock);
    }
  }
}

std::vector<ModelInfo> ModelRouter::list() const {
  std::lock_guard lock(mutex_);
  std::vector<ModelInfo> out;
  if (auto it = entries_.find(default_id_); it != entries_.end()) out.push_back(info(*it->second));
  for (const auto& [id, e] : entries_) {
    if (!e->is_default) out.push_back(info(*e));
  }
  return out;
}

std::vector<ModelEvent> ModelRouter::events_after(std::uint64_t after,
                                                  std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  cv_.wait_for(lock, timeout, [&] { return stopping_ || seq_ > after; });
  std::vector<ModelEvent> out;
  for (const auto& ev : events_) {
    if (ev.seq > after) out.push_back(ev);
  }
  return out;
}

std::uint64_t ModelRouter::last_event() const {
  std::lock_guard lock(mutex_);
  return seq_;
}

ModelRouter::Lease::Lease(ModelRouter* router, EntryPtr entry, std::shared_ptr<Backend> backend)
    : router_(router), entry_(std::move(entry)), backend_(std::move(backend)) {}

ModelRouter::Lease::Lease(Lease&& other) noexcept
    : router_(std::exchange(other.router_, nullptr)),
      entry_(std::move(other.entry_)),
      backend_(std::move(other.backend_)) {}

ModelRouter::Lease& ModelRouter::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    reset();
    router_ = std::exchange(other.router_, nullptr);
    entry_ = std::move(other.entry_);
    backend_ = std::move(other.backend_);
  }
  return *this;
}

ModelRouter::Lease::~Lease() {
  reset();
}

void ModelRouter::Lease::reset() {
  if (!router_) return;
  backend_.reset();  // before release: the router's copy is then the last
  router_->release(entry_);
  router_ = nullptr;
  entry_.reset();
}

}  // namespace tandem::models
