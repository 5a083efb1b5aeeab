#include "tray/notify_icon.h"

#include <shellapi.h>

#include <algorithm>
#include <cwchar>

#include "common/log.h"
#include "common/win32/error.h"

namespace tandem::tray {
namespace {

constexpr UINT kIconId = 1;

template <std::size_t N>
void copy_text(wchar_t (&to)[N], const std::wstring& from) {
  const std::size_t n = std::min(from.size(), N - 1);
  std::wmemcpy(to, from.data(), n);
  to[n] = L'\0';
}

}  // namespace

NotifyIcon::~NotifyIcon() {
  if (!added_) return;
  NOTIFYICONDATAW d = data(0);
  Shell_NotifyIconW(NIM_DELETE, &d);
}

NOTIFYICONDATAW NotifyIcon::data(UINT flags) const {
  NOTIFYICONDATAW d{};
  d.cbSize = sizeof(d);
  d.hWnd = window_;
  d.uID = kIconId;
  d.uFlags = flags;
  d.uCallbackMessage = message_;
  d.hIcon = icon_;
  copy_text(d.szTip, tip_);
  return d;
}

bool NotifyIcon::add() {
  NOTIFYICONDATAW d = data(NIF_MESSAGE | NIF_ICON | NIF_TIP | NIF_SHOWTIP);
  if (!Shell_NotifyIconW(NIM_ADD, &d)) {
    // After Explorer restarts the old icon may still be registered: replace it.
    if (!Shell_NotifyIconW(NIM_MODIFY, &d)) {
      TLOG(warning) << "Shell_NotifyIconW(NIM_ADD) failed: no notification area yet";
      added_ = false;
      return false;
    }
  }
  d.uVersion = NOTIFYICON_VERSION_4;
  if (!Shell_NotifyIconW(NIM_SETVERSION, &d)) {
    TLOG(warning) << "Shell_NotifyIconW(NIM_SETVERSION, 4) failed";
  }
  added_ = true;
  return true;
}

void NotifyIcon::update(HICON icon, const std::wstring& tip) {
  icon_ = icon;
  tip_ = tip;
  if (!added_) {
    add();
    return;
  }
  NOTIFYICONDATAW d = data(NIF_ICON | NIF_TIP | NIF_SHOWTIP);
  if (!Shell_NotifyIconW(NIM_MODIFY, &d)) add();
}

void NotifyIcon::balloon(const std::wstring& title, const std::wstring& text, bool warning) {
  if (!added_) return;
  NOTIFYICONDATAW d = data(NIF_INFO);
  copy_text(d.szInfoTitle, title);
  copy_text(d.szInfo, text);
  d.dwInfoFlags = warning ? NIIF_WARNING : NIIF_INFO;
  if (!Shell_NotifyIconW(NIM_MODIFY, &d)) {
    TLOG(warning) << "Shell_NotifyIconW(NIM_MODIFY, balloon) failed";
  }
}

}  // namespace tandem::tray
