// tandem-tray's hidden window: owns the notification icon, the status window, the change watcher
// and the elevated tandemctl runs, and turns each snapshot into icon, tooltip, menu and balloons.
#pragma once

#include <windows.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "tray/change_watcher.h"
#include "tray/elevated_command.h"
#include "tray/notify_icon.h"
#include "tray/status_window.h"
#include "tray/tray_state.h"

namespace tandem::tray {

// The hidden window's class: a second instance finds the first by it.
inline constexpr wchar_t kTrayWindowClass[] = L"TandemTrayWindow";
// Posted to the running instance by a second one started with --show-status.
inline constexpr UINT kShowStatusMessage = WM_APP + 4;

class TrayApp {
 public:
  explicit TrayApp(HINSTANCE instance);
  ~TrayApp();
  TrayApp(const TrayApp&) = delete;
  TrayApp& operator=(const TrayApp&) = delete;

  // The message loop; returns the exit code once Quit is chosen.
  int run(bool show_status);

 private:
  static LRESULT CALLBACK procedure(HWND window, UINT message, WPARAM w, LPARAM l);
  LRESULT handle(UINT message, WPARAM w, LPARAM l);
  void on_snapshot(const Snapshot& snapshot);
  void on_icon_event(UINT event);
  void show_menu();
  void execute(UINT id);
  void control(const std::string& verb, const std::string& service);
  void copy_url();
  void open_folder(const std::filesystem::path& folder);
  void report(const std::string& title, const std::string& text);
  HICON icon_for(Colour colour) const;

  HINSTANCE instance_;
  UINT taskbar_created_ = 0;
  HWND window_ = nullptr;
  std::unique_ptr<NotifyIcon> icon_;
  std::unique_ptr<StatusWindow> status_;
  std::unique_ptr<ElevatedCommands> commands_;
  Monitor monitor_;
  Snapshot current_;
  std::unique_ptr<ChangeWatcher> watcher_;
};

}  // namespace tandem::tray
