// The models folder kept in the router without a restart: scanned at start, again on each change
// notification (and before a request's unknown name is answered 404). A file still being
// written is left until its writer closes it; an invalid models.json keeps the catalog there was
// and the log says why.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "common/folder_watch.h"
#include "service/models/model_catalog.h"
#include "service/models/model_router.h"

namespace tandem::models {

using MakeWatch = std::function<std::unique_ptr<FolderWatch>(const std::filesystem::path& folder)>;

class ModelsFolder {
 public:
  // `default_file`, the default model's, is not listed again when it sits in the folder.
  // `make_watch` null: no notifications (the folder is read at start and on unknown names).
  ModelsFolder(std::filesystem::path folder, std::filesystem::path default_file,
               ModelRouter& router, StillWritten still_written, MakeWatch make_watch);
  ~ModelsFolder();

  void rescan();
  const std::filesystem::path& folder() const { return folder_; }

 private:
  // Waits on `watch` (made before the first look) and looks again at each change.
  void watch(std::stop_token stop, std::unique_ptr<FolderWatch> watch);

  const std::filesystem::path folder_;
  const std::filesystem::path default_file_;
  ModelRouter& router_;
  const StillWritten still_written_;
  const MakeWatch make_watch_;
  std::mutex scan_mutex_;
  std::atomic<bool> copy_in_progress_{false};
  std::jthread watcher_;
};

}  // namespace tandem::models
