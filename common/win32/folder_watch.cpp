#include "common/win32/folder_watch.h"

#include "common/files.h"
#include "common/win32/error.h"
#include "common/win32/stop_event.h"
#include "common/win32/wait_ms.h"

namespace tandem::win32 {

ChangeNotificationWatch::ChangeNotificationWatch(const std::filesystem::path& folder)
    : folder_(folder),
      change_(FindFirstChangeNotificationW(
          folder.wstring().c_str(), FALSE,
          FILE_NOTIFY_CHANGE_FILE_NAME | FILE_NOTIFY_CHANGE_SIZE | FILE_NOTIFY_CHANGE_LAST_WRITE)) {
  if (!change_) throw_last_error("FindFirstChangeNotificationW(" + path_utf8(folder) + ")");
}

bool ChangeNotificationWatch::wait_for_change(std::chrono::milliseconds timeout,
                                              std::stop_token stop) {
  const StopEvent stop_event(std::move(stop));
  const HANDLE handles[] = {change_.get(), stop_event.get()};
  static_assert(kWaitForChangeOnly == kWaitForever);
  const DWORD r = WaitForMultipleObjects(2, handles, FALSE, wait_ms(timeout));
  if (r == WAIT_FAILED) throw_last_error("WaitForMultipleObjects(" + path_utf8(folder_) + ")");
  if (r != WAIT_OBJECT_0) return false;
  // Re-arm: changes from now on signal it again; the caller rescans after this returns.
  if (!FindNextChangeNotification(change_.get())) {
    throw_last_error("FindNextChangeNotification(" + path_utf8(folder_) + ")");
  }
  return true;
}

}  // namespace tandem::win32
