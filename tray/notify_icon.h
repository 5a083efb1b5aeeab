// The notification-area icon (Shell_NotifyIconW, NOTIFYICON_VERSION_4), removed on destruction.
// add() again after Explorer restarts ("TaskbarCreated"): the shell has forgotten it then.
#pragma once

#include <windows.h>

#include <shellapi.h>

#include <string>

namespace tandem::tray {

class NotifyIcon {
 public:
  // Mouse and keyboard events arrive at `window` as `callback_message`.
  NotifyIcon(HWND window, UINT callback_message) : window_(window), message_(callback_message) {}
  ~NotifyIcon();
  NotifyIcon(const NotifyIcon&) = delete;
  NotifyIcon& operator=(const NotifyIcon&) = delete;

  // Returns false when there is no notification area (yet): TaskbarCreated will say when.
  bool add();
  void update(HICON icon, const std::wstring& tip);
  void balloon(const std::wstring& title, const std::wstring& text, bool warning);

 private:
  NOTIFYICONDATAW data(UINT flags) const;

  HWND window_;
  UINT message_;
  HICON icon_ = nullptr;
  std::wstring tip_;
  bool added_ = false;
};

}  // namespace tandem::tray
