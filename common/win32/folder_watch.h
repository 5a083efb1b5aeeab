// FolderWatch on Windows: a change notification (FindFirstChangeNotificationW) on the folder's
// file names and sizes, so a job dropped in the inbox starts at once without polling.
#pragma once

#include <windows.h>

#include <filesystem>

#include "common/folder_watch.h"
#include "common/win32/handle.h"

namespace tandem::win32 {

class ChangeNotificationWatch final : public FolderWatch {
 public:
  explicit ChangeNotificationWatch(const std::filesystem::path& folder);
  bool wait_for_change(std::chrono::milliseconds timeout, std::stop_token stop) override;

 private:
  static HANDLE invalid() { return INVALID_HANDLE_VALUE; }
  static void close(HANDLE h) { FindCloseChangeNotification(h); }

  std::filesystem::path folder_;
  Owned<HANDLE, invalid, close> change_;
};

}  // namespace tandem::win32
