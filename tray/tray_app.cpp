#include "tray/tray_app.h"

#include <shellapi.h>

#include <cstring>

#include "common/config.h"
#include "common/error.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/win32/error.h"
#include "common/win32/strings.h"
#include "tray/resource_ids.h"

namespace tandem::tray {
namespace {

using namespace std::chrono_literals;

constexpr UINT kIconMessage = WM_APP + 1;
constexpr UINT kSnapshotMessage = WM_APP + 2;  // lParam: a Snapshot* to take over
constexpr UINT kCommandDoneMessage = WM_APP + 3;
// After a failed read only: changes arrive as events, and nothing is read on a timer otherwise.
constexpr auto kRetryAfterError = 30s;

enum MenuId : UINT {
  kLlmStart = 1,
  kLlmStop,
  kLlmRestart,
  kTrainerStart,
  kTrainerStop,
  kTrainerRestart,
  kCopyUrl,
  kOpenLogs,
  kOpenJobs,
  kShowStatus,
  kQuit,
};

// The spool the trainer uses (trainer.json's jobs_dir); a config it cannot read is the
// trainer's to report, so the default folder opens then.
std::filesystem::path trainer_jobs_dir() {
  try {
    return paths::jobs_dir(load_trainer_config(paths::trainer_config()));
  } catch (const Error& e) {
    TLOG(warning) << e.what();
    return paths::jobs_dir();
  }
}

struct MenuHandle {
  HMENU menu;
  ~MenuHandle() { DestroyMenu(menu); }
};

HMENU create_popup() {
  HMENU menu = CreatePopupMenu();
  if (!menu) win32::throw_last_error("CreatePopupMenu");
  return menu;
}

void append(HMENU menu, UINT id, const std::string& text, bool enabled = true) {
  if (!AppendMenuW(menu, MF_STRING | (enabled ? MF_ENABLED : MF_GRAYED), id,
                   win32::widen(text).c_str())) {
    win32::throw_last_error("AppendMenuW(" + text + ")");
  }
}

HMENU service_menu(const ServiceMenu& enabled, UINT first_id) {
  HMENU menu = create_popup();
  append(menu, first_id, "Start", enabled.start);
  append(menu, first_id + 1, "Stop", enabled.stop);
  append(menu, first_id + 2, "Restart", enabled.restart);
  return menu;
}

}  // namespace

TrayApp::TrayApp(HINSTANCE instance) : instance_(instance) {
  taskbar_created_ = RegisterWindowMessageW(L"TaskbarCreated");
  if (!taskbar_created_) win32::throw_last_error("RegisterWindowMessageW(TaskbarCreated)");
  WNDCLASSEXW wc{};
  wc.cbSize = sizeof(wc);
  wc.lpfnWndProc = procedure;
  wc.hInstance = instance;
  wc.lpszClassName = kTrayWindowClass;
  if (!RegisterClassExW(&wc)) win32::throw_last_error("RegisterClassExW(TandemTrayWindow)");
  // A hidden top-level window, not a message-only one: only those hear TaskbarCreated.
  window_ = CreateWindowExW(0, kTrayWindowClass, L"Tandem", WS_OVERLAPPED, 0, 0, 0, 0, nullptr,
                            nullptr, instance, this);
  if (!window_) win32::throw_last_error("CreateWindowExW(TandemTrayWindow)");
  status_ = std::make_unique<StatusWindow>(instance);
  commands_ = std::make_unique<ElevatedCommands>(window_, kCommandDoneMessage);
  icon_ = std::make_unique<NotifyIcon>(window_, kIconMessage);
  icon_->update(icon_for(Colour::grey), L"Tandem \u2014 reading status\u2026");
  const HWND target = window_;
  watcher_ = std::make_unique<ChangeWatcher>(
      [target](Snapshot s) {
        auto owned = std::make_unique<Snapshot>(std::move(s));
        if (PostMessageW(target, kSnapshotMessage, 0, reinterpret_cast<LPARAM>(owned.get()))) {
          owned.release();  // the window takes it over
        }
      },
      kRetryAfterError);
}

TrayApp::~TrayApp() {
  watcher_.reset();                              // no snapshot is posted after this
  SetWindowLongPtrW(window_, GWLP_USERDATA, 0);  // half-destroyed: messages go to the default
  MSG message;
  while (PeekMessageW(&message, window_, kSnapshotMessage, kSnapshotMessage, PM_REMOVE)) {
    delete reinterpret_cast<Snapshot*>(message.lParam);
  }
  commands_.reset();
  icon_.reset();
  status_.reset();
  DestroyWindow(window_);
}

int TrayApp::run(bool show_status) {
  if (show_status) status_->show();
  MSG message;
  for (;;) {
    const BOOL r = GetMessageW(&message, nullptr, 0, 0);
    if (r == 0) return static_cast<int>(message.wParam);
    if (r == -1) win32::throw_last_error("GetMessageW");
    TranslateMessage(&message);
    DispatchMessageW(&message);
  }
}

LRESULT CALLBACK TrayApp::procedure(HWND window, UINT message, WPARAM w, LPARAM l) {
  if (message == WM_NCCREATE) {
    const auto* create = reinterpret_cast<const CREATESTRUCTW*>(l);
    SetWindowLongPtrW(window, GWLP_USERDATA, reinterpret_cast<LONG_PTR>(create->lpCreateParams));
  }
  auto* app = reinterpret_cast<TrayApp*>(GetWindowLongPtrW(window, GWLP_USERDATA));
  if (!app || !app->window_) return DefWindowProcW(window, message, w, l);
  try {
    return app->handle(message, w, l);
  } catch (const std::exception& e) {
    // Never let an exception cross the window procedure: say it and carry on.
    TLOG(error) << e.what();
    app->report("Tandem tray", e.what());
    return 0;
  }
}

LRESULT TrayApp::handle(UINT message, WPARAM w, LPARAM l) {
  if (message == taskbar_created_) {
    icon_->add();  // Explorer restarted and forgot the icon
    return 0;
  }
  switch (message) {
    case kSnapshotMessage: {
      std::unique_ptr<Snapshot> snapshot(reinterpret_cast<Snapshot*>(l));
      on_snapshot(*snapshot);
      return 0;
    }
    case kIconMessage:
      on_icon_event(LOWORD(l));
      return 0;
    case kCommandDoneMessage: {
      const auto done = commands_->finish(w);
      if (done.exit_code != 0) {
        report("Tandem", "tandemctl " + done.arguments + " failed (exit code " +
                             std::to_string(done.exit_code) + "); see tandemctl status");
      }
      watcher_->refresh_now();
      return 0;
    }
    case kShowStatusMessage:
      status_->show();
      return 0;
    case WM_DESTROY:
      return 0;
  }
  return DefWindowProcW(window_, message, w, l);
}

void TrayApp::on_snapshot(const Snapshot& snapshot) {
  current_ = snapshot;
  const auto now = std::chrono::steady_clock::now();
  const auto notices = monitor_.update(current_, now);
  watcher_->refresh_at(monitor_.next_change(now));  // amber ends with time alone
  icon_->update(icon_for(colour(current_)), win32::widen(tooltip(current_)));
  for (const auto& n : notices) {
    TLOG(info) << n.title << ": " << n.text;
    icon_->balloon(win32::widen(n.title), win32::widen(n.text), n.warning);
  }
  status_->update(current_);
}

void TrayApp::on_icon_event(UINT event) {
  switch (event) {
    case WM_CONTEXTMENU:
    case WM_RBUTTONUP:
      show_menu();
      break;
    case NIN_SELECT:
    case NIN_KEYSELECT:
    case WM_LBUTTONDBLCLK:
      status_->show();
      break;
    default:
      break;
  }
}

void TrayApp::show_menu() {
  const MenuState enabled = menu_state(current_);
  MenuHandle menu{create_popup()};
  append(menu.menu, 0,
         "Tandem: " + llm_summary(current_) + " \xC2\xB7 " + trainer_summary(current_), false);
  AppendMenuW(menu.menu, MF_SEPARATOR, 0, nullptr);
  // Submenus belong to the menu once appended and go with it.
  AppendMenuW(menu.menu, MF_POPUP, reinterpret_cast<UINT_PTR>(service_menu(enabled.llm, kLlmStart)),
              L"LLM server (TandemLlm)");
  AppendMenuW(menu.menu, MF_POPUP,
              reinterpret_cast<UINT_PTR>(service_menu(enabled.trainer, kTrainerStart)),
              L"Trainer (TandemTrainer)");
  AppendMenuW(menu.menu, MF_SEPARATOR, 0, nullptr);
  append(menu.menu, kCopyUrl, "Copy server URL", enabled.copy_url);
  append(menu.menu, kOpenLogs, "Open logs folder");
  append(menu.menu, kOpenJobs, "Open jobs folder");
  append(menu.menu, kShowStatus, "Show status");
  AppendMenuW(menu.menu, MF_SEPARATOR, 0, nullptr);
  append(menu.menu, kQuit, "Quit");

  POINT at{};
  GetCursorPos(&at);
  // Without the foreground, the menu would not close when the user clicks elsewhere.
  SetForegroundWindow(window_);
  const auto id = static_cast<UINT>(TrackPopupMenuEx(
      menu.menu, TPM_RETURNCMD | TPM_RIGHTBUTTON | TPM_NONOTIFY, at.x, at.y, window_, nullptr));
  PostMessageW(window_, WM_NULL, 0, 0);
  if (id != 0) execute(id);
}

void TrayApp::execute(UINT id) {
  switch (id) {
    case kLlmStart:
      control("start", "llm");
      break;
    case kLlmStop:
      control("stop", "llm");
      break;
    case kLlmRestart:
      control("restart", "llm");
      break;
    case kTrainerStart:
      control("start", "trainer");
      break;
    case kTrainerStop:
      control("stop", "trainer");
      break;
    case kTrainerRestart:
      control("restart", "trainer");
      break;
    case kCopyUrl:
      copy_url();
      break;
    case kOpenLogs:
      open_folder(paths::logs_dir());
      break;
    case kOpenJobs:
      open_folder(trainer_jobs_dir());
      break;
    case kShowStatus:
      status_->show();
      break;
    case kQuit:
      PostQuitMessage(0);
      break;
    default:
      break;
  }
}

void TrayApp::control(const std::string& verb, const std::string& service) {
  if (service == "llm" && verb != "start") {
    monitor_.expect_llm_stop(std::chrono::steady_clock::now());
  }
  TLOG(info) << "running tandemctl " << verb << " " << service << " elevated";
  if (!commands_->run(verb + " " + service)) TLOG(info) << "elevation declined";
}

void TrayApp::copy_url() {
  if (!llm_ready(current_)) return;  // the menu item is disabled then
  const std::wstring url = win32::widen(current_.publication->url);
  if (!OpenClipboard(window_)) win32::throw_last_error("OpenClipboard");
  struct Closer {
    ~Closer() { CloseClipboard(); }
  } closer;
  if (!EmptyClipboard()) win32::throw_last_error("EmptyClipboard");
  const std::size_t bytes = (url.size() + 1) * sizeof(wchar_t);
  HGLOBAL memory = GlobalAlloc(GMEM_MOVEABLE, bytes);
  if (!memory) win32::throw_last_error("GlobalAlloc(clipboard)");
  std::memcpy(GlobalLock(memory), url.c_str(), bytes);
  GlobalUnlock(memory);
  if (!SetClipboardData(CF_UNICODETEXT, memory)) {
    GlobalFree(memory);  // still ours when the clipboard refused it
    win32::throw_last_error("SetClipboardData(CF_UNICODETEXT)");
  }
}

void TrayApp::open_folder(const std::filesystem::path& folder) {
  SHELLEXECUTEINFOW info{};
  info.cbSize = sizeof(info);
  info.fMask = SEE_MASK_FLAG_NO_UI;
  info.hwnd = window_;
  info.lpVerb = L"open";
  info.lpFile = folder.c_str();
  info.nShow = SW_SHOWNORMAL;
  if (!ShellExecuteExW(&info))
    win32::throw_last_error("ShellExecuteExW(open, " + folder.string() + ")");
}

void TrayApp::report(const std::string& title, const std::string& text) {
  if (icon_) {
    icon_->balloon(win32::widen(truncate_utf16(title, kMaxBalloonTitle)),
                   win32::widen(truncate_utf16(text, kMaxBalloonText)), true);
  }
}

HICON TrayApp::icon_for(Colour colour) const {
  int id = IDI_TANDEM_GREY;
  switch (colour) {
    case Colour::green:
      id = IDI_TANDEM_GREEN;
      break;
    case Colour::amber:
      id = IDI_TANDEM_AMBER;
      break;
    case Colour::red:
      id = IDI_TANDEM_RED;
      break;
    case Colour::grey:
      id = IDI_TANDEM_GREY;
      break;
  }
  // LR_SHARED: loaded once per size and freed by the system, so no handle to track.
  auto icon = static_cast<HICON>(LoadImageW(instance_, MAKEINTRESOURCEW(id), IMAGE_ICON,
                                            GetSystemMetrics(SM_CXSMICON),
                                            GetSystemMetrics(SM_CYSMICON), LR_SHARED));
  if (!icon) win32::throw_last_error("LoadImageW(icon " + std::to_string(id) + ")");
  return icon;
}

}  // namespace tandem::tray
