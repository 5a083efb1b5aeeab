// tandem-tray.exe: the notification-area app (issue #6). One instance per user session; a second
// start with --show-status asks the first to show its status window, and then ends.
#include <windows.h>

#include <commctrl.h>
#include <shellapi.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "common/error.h"
#include "common/log.h"
#include "common/win32/error.h"
#include "common/win32/handle.h"
#include "common/win32/strings.h"
#include "tray/tray_app.h"

namespace {

bool has_flag(const wchar_t* flag) {
  int count = 0;
  LPWSTR* argv = CommandLineToArgvW(GetCommandLineW(), &count);
  if (!argv) tandem::win32::throw_last_error("CommandLineToArgvW");
  bool found = false;
  for (int i = 1; i < count; ++i) found = found || std::wcscmp(argv[i], flag) == 0;
  LocalFree(argv);
  return found;
}

// %LOCALAPPDATA%\Tandem\logs: the tray runs as the user, who may not write %ProgramData%'s logs.
std::filesystem::path log_directory() {
  if (const wchar_t* local = _wgetenv(L"LOCALAPPDATA")) {
    return std::filesystem::path(local) / "Tandem" / "logs";
  }
  return std::filesystem::temp_directory_path() / "Tandem";
}

int run(HINSTANCE instance) {
  using namespace tandem;
  const bool show_status = has_flag(L"--show-status");
  // Local\: one per user session, as each session has its own notification area.
  win32::Handle mutex(CreateMutexW(nullptr, FALSE, L"Local\\TandemTray"));
  if (!mutex) win32::throw_last_error("CreateMutexW(Local\\TandemTray)");
  if (GetLastError() == ERROR_ALREADY_EXISTS) {
    if (show_status) {
      if (HWND running = FindWindowW(tray::kTrayWindowClass, nullptr)) {
        PostMessageW(running, tray::kShowStatusMessage, 0, 0);
      }
    }
    return 0;
  }
  log::Options options;
  options.directory = log_directory();
  options.file_stem = "tandem-tray";
  options.max_files = 2;
  log::init_or_fall_back(options);
  TLOG(info) << "tandem-tray started";

  INITCOMMONCONTROLSEX controls{sizeof(controls), ICC_PROGRESS_CLASS};
  if (!InitCommonControlsEx(&controls)) tandem::win32::throw_last_error("InitCommonControlsEx");
  tray::TrayApp app(instance);
  const int code = app.run(show_status);
  TLOG(info) << "tandem-tray quits";
  return code;
}

}  // namespace

int WINAPI wWinMain(HINSTANCE instance, HINSTANCE, PWSTR, int) {
  try {
    return run(instance);
  } catch (const std::exception& e) {
    // No console: a person sees this box, and the log has the same line.
    TLOG(error) << e.what();
    MessageBoxW(nullptr, tandem::win32::widen(e.what()).c_str(), L"Tandem tray",
                MB_ICONERROR | MB_OK);
    return 1;
  }
}
