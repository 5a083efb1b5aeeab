// "Show status": a small window listing both services (state, pid, port, model), the current job
// with a progress bar, and the last error. Hidden, not destroyed, when closed.
#pragma once

#include <windows.h>

#include <array>

#include "tray/tray_state.h"

namespace tandem::tray {

class StatusWindow {
 public:
  explicit StatusWindow(HINSTANCE instance);
  ~StatusWindow();
  StatusWindow(const StatusWindow&) = delete;
  StatusWindow& operator=(const StatusWindow&) = delete;

  void show();
  void update(const Snapshot& snapshot);

 private:
  static LRESULT CALLBACK procedure(HWND window, UINT message, WPARAM w, LPARAM l);

  HWND window_ = nullptr;
  std::array<HWND, 8> lines_{};  // see StatusWindow::update
  HWND progress_ = nullptr;
};

}  // namespace tandem::tray
