#include "tray/elevated_command.h"

#include <shellapi.h>

#include "common/paths.h"
#include "common/win32/error.h"
#include "common/win32/process.h"
#include "common/win32/strings.h"

namespace tandem::tray {

bool ElevatedCommands::run(const std::string& arguments) {
  const auto ctl = paths::executable_dir() / "tandemctl.exe";
  const std::wstring parameters = win32::widen(arguments);
  SHELLEXECUTEINFOW info{};
  info.cbSize = sizeof(info);
  info.fMask = SEE_MASK_NOCLOSEPROCESS | SEE_MASK_FLAG_NO_UI;
  info.hwnd = window_;
  info.lpVerb = L"runas";
  info.lpFile = ctl.c_str();
  info.lpParameters = parameters.c_str();
  info.nShow = SW_HIDE;
  if (!ShellExecuteExW(&info)) {
    if (GetLastError() == ERROR_CANCELLED) return false;
    win32::throw_last_error("ShellExecuteExW(runas, " + ctl.string() + " " + arguments + ")");
  }
  if (!info.hProcess) return true;  // handed to an already running instance: nothing to await
  const WPARAM id = next_id_++;
  Run& r = runs_[id];
  r.arguments = arguments;
  // Its rights are not documented; a caller that is not elevated may at least wait on the
  // elevated process and read its exit code, which is all the tray does.
  r.process = win32::Process::adopt(info.hProcess, "tandemctl " + arguments,
                                    SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION);
  r.window = window_;
  r.message = message_;
  r.id = id;
  try {
    r.process.rights().require(SYNCHRONIZE,
                               "RegisterWaitForSingleObject(" + r.process.what() + ")");
    r.wait = win32::RegisteredWait(r.process.get(), on_exit, &r, r.process.what());
  } catch (...) {
    runs_.erase(id);
    throw;
  }
  return true;
}

void CALLBACK ElevatedCommands::on_exit(void* context, BOOLEAN) {
  const Run* r = static_cast<const Run*>(context);
  PostMessageW(r->window, r->message, r->id, 0);
}

ElevatedCommands::Finished ElevatedCommands::finish(WPARAM id) {
  auto it = runs_.find(id);
  if (it == runs_.end()) return {};
  it->second.wait.reset();
  Finished f{it->second.arguments, it->second.process.exit_code()};
  runs_.erase(it);
  return f;
}

}  // namespace tandem::tray
