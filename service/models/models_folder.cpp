#include "service/models/models_folder.h"

#include <chrono>

#include "common/error.h"
#include "common/files.h"
#include "common/log.h"

namespace tandem::models {
namespace {

using namespace std::chrono_literals;

bool same_file(const std::filesystem::path& a, const std::filesystem::path& b) {
  std::error_code ec;
  return std::filesystem::equivalent(a, b, ec);
}

}  // namespace

ModelsFolder::ModelsFolder(std::filesystem::path folder, std::filesystem::path default_file,
                           ModelRouter& router, StillWritten still_written, MakeWatch make_watch)
    : folder_(std::move(folder)),
      default_file_(std::move(default_file)),
      router_(router),
      still_written_(std::move(still_written)),
      make_watch_(std::move(make_watch)) {
  // The watch before the one look at start: nothing that changes after it is missed.
  std::unique_ptr<FolderWatch> watch;
  if (make_watch_) {
    try {
      watch = make_watch_(folder_);
    } catch (const std::exception& e) {
      TLOG(error) << "cannot watch the models folder " << path_utf8(folder_)
                  << "; models added now are found on their first request: " << e.what();
    }
  }
  rescan();
  router_.set_rescan([this] { rescan(); });
  if (watch) {
    watcher_ = std::jthread([this, w = std::move(watch)](std::stop_token stop) mutable {
      this->watch(stop, std::move(w));
    });
  }
}

ModelsFolder::~ModelsFolder() {
  router_.set_rescan(nullptr);
  watcher_.request_stop();
  if (watcher_.joinable()) watcher_.join();
}

void ModelsFolder::rescan() {
  std::lock_guard lock(scan_mutex_);
  Catalog catalog;
  try {
    catalog = scan_models(folder_, still_written_);
  } catch (const std::exception& e) {
    TLOG(error) << "models folder " << path_utf8(folder_) << " not read again: " << e.what();
    return;
  }
  std::erase_if(catalog.entries,
                [&](const CatalogEntry& e) { return same_file(e.file, default_file_); });
  for (const auto& name : catalog.skipped) {
    TLOG(debug) << "model file " << name << " is still being written: looked at once it closes";
  }
  copy_in_progress_ = !catalog.skipped.empty();
  router_.set_catalog(catalog.entries);
}

void ModelsFolder::watch(std::stop_token stop, std::unique_ptr<FolderWatch> watch) {
  try {
    while (!stop.stop_requested()) {
      // No timer while nothing happens. While a copy is in progress, a look every 2 s: Windows
      // does not notify the close that ends a copy.
      const auto timeout = copy_in_progress_ ? std::chrono::milliseconds(2s) : kWaitForChangeOnly;
      if (!watch->wait_for_change(timeout, stop) && !copy_in_progress_) continue;
      if (stop.stop_requested()) return;
      // A new watch before the look, so nothing that changes after the look is missed (and a
      // folder created since the last one is watched itself).
      watch = make_watch_(folder_);
      rescan();
    }
  } catch (const std::exception& e) {
    TLOG(error) << "watching the models folder " << path_utf8(folder_)
                << " failed; models added now are found on their first request: " << e.what();
  }
}

}  // namespace tandem::models
