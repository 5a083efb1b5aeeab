#include "tray/status_window.h"

#include <commctrl.h>

#include <string>
#include <type_traits>

#include "common/win32/error.h"
#include "common/win32/strings.h"
#include "tray/resource_ids.h"
#include "tray/status_text.h"

namespace tandem::tray {
namespace {

constexpr wchar_t kClassName[] = L"TandemTrayStatus";
constexpr int kMargin = 12, kLineHeight = 20, kWidth = 520;
// Line index after which the progress bar sits (under "Job: ...").
constexpr std::size_t kJobLine = 5;

void register_class(HINSTANCE instance, WNDPROC procedure) {
  WNDCLASSEXW wc{};
  wc.cbSize = sizeof(wc);
  wc.lpfnWndProc = procedure;
  wc.hInstance = instance;
  wc.hCursor = LoadCursorW(nullptr, IDC_ARROW);
  wc.hbrBackground = reinterpret_cast<HBRUSH>(COLOR_BTNFACE + 1);
  wc.lpszClassName = kClassName;
  wc.hIcon = LoadIconW(instance, MAKEINTRESOURCEW(IDI_TANDEM_GREEN));
  if (!RegisterClassExW(&wc) && GetLastError() != ERROR_CLASS_ALREADY_EXISTS) {
    win32::throw_last_error("RegisterClassExW(TandemTrayStatus)");
  }
}

int line_top(std::size_t i) {
  // The progress bar takes one line's room below the job line.
  return kMargin + static_cast<int>(i) * kLineHeight + (i > kJobLine ? kLineHeight : 0);
}

}  // namespace

StatusWindow::StatusWindow(HINSTANCE instance) {
  register_class(instance, procedure);
  // The last line (the last error) gets two lines' room and wraps.
  const int height = line_top(lines_.size()) + kLineHeight + kMargin +
                     GetSystemMetrics(SM_CYCAPTION) + 2 * GetSystemMetrics(SM_CYFRAME);
  window_ = CreateWindowExW(0, kClassName, L"Tandem status",
                            WS_OVERLAPPED | WS_CAPTION | WS_SYSMENU | WS_MINIMIZEBOX, CW_USEDEFAULT,
                            CW_USEDEFAULT, kWidth + 2 * kMargin, height, nullptr, nullptr, instance,
                            nullptr);
  if (!window_) win32::throw_last_error("CreateWindowExW(TandemTrayStatus)");
  const auto font = reinterpret_cast<WPARAM>(GetStockObject(DEFAULT_GUI_FONT));
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    const bool last = i + 1 == lines_.size();
    const DWORD style = WS_CHILD | WS_VISIBLE | SS_LEFT | SS_NOPREFIX | (last ? 0 : SS_ENDELLIPSIS);
    lines_[i] =
        CreateWindowExW(0, L"STATIC", L"", style, kMargin, line_top(i), kWidth - kMargin,
                        (last ? 2 : 1) * kLineHeight - 2, window_, nullptr, instance, nullptr);
    if (!lines_[i]) win32::throw_last_error("CreateWindowExW(STATIC)");
    SendMessageW(lines_[i], WM_SETFONT, font, FALSE);
  }
  progress_ = CreateWindowExW(0, PROGRESS_CLASSW, L"", WS_CHILD | WS_VISIBLE | PBS_SMOOTH, kMargin,
                              line_top(kJobLine + 1) - kLineHeight + 2, kWidth - kMargin,
                              kLineHeight - 6, window_, nullptr, instance, nullptr);
  if (!progress_) win32::throw_last_error("CreateWindowExW(PROGRESS_CLASSW)");
  SendMessageW(progress_, PBM_SETRANGE32, 0, 100);
}

StatusWindow::~StatusWindow() {
  if (window_) DestroyWindow(window_);
}

void StatusWindow::show() {
  ShowWindow(window_, SW_SHOWNORMAL);
  SetForegroundWindow(window_);
}

void StatusWindow::update(const Snapshot& snapshot) {
  const StatusText text = status_text(snapshot);
  SetWindowTextW(window_, win32::widen(text.title).c_str());
  const std::string* values[] = {&text.llm,     &text.endpoint, &text.model,    &text.compute,
                                 &text.trainer, &text.job,      &text.counters, &text.last_error};
  static_assert(std::extent_v<decltype(values)> == std::tuple_size_v<decltype(lines_)>);
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    SetWindowTextW(lines_[i], win32::widen(*values[i]).c_str());
  }
  const auto percent = job_percent(snapshot);
  SendMessageW(progress_, PBM_SETPOS, static_cast<WPARAM>(percent.value_or(0)), 0);
}

LRESULT CALLBACK StatusWindow::procedure(HWND window, UINT message, WPARAM w, LPARAM l) {
  if (message == WM_CLOSE) {
    ShowWindow(window, SW_HIDE);  // the tray lives on; the window is reused
    return 0;
  }
  return DefWindowProcW(window, message, w, l);
}

}  // namespace tandem::tray
