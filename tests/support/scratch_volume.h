// A small volume for fault tests under Wine: a Linux tmpfs of a few MB mounted at a folder the
// test names, so "disk full" (fill it) and "read-only" (remount it) are the real thing. A
// read-only attribute or a DACL is no substitute there: Wine runs as root here, and root writes
// through both.
//
// Wine starts Linux programs through CreateProcessW, but the handle it gives back does not wait
// for them: each command ends by renaming a marker file into place, and the test waits for it on
// a change notification of the marker's folder, bounded. Mounting needs root (CAP_SYS_ADMIN);
// without it mount() says why and the test skips.
#pragma once

#include <windows.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "common/error.h"
#include "common/files.h"
#include "common/win32/handle.h"
#include "common/win32/strings.h"

namespace tandem::testing {

class ScratchVolume {
 public:
  // `unix_dir`: where to mount, as Linux sees it; `windows_dir`: the same folder for Wine (Z:...).
  ScratchVolume(std::string unix_dir, std::filesystem::path windows_dir)
      : unix_dir_(std::move(unix_dir)), windows_dir_(std::move(windows_dir)) {
    markers_ = windows_dir_.parent_path() / (windows_dir_.filename().string() + "-markers");
    std::filesystem::create_directories(markers_);
  }
  ~ScratchVolume() {
    if (mounted_) run("umount -l '" + unix_dir_ + "'");  // lazily: Wine may still hold a handle
  }
  ScratchVolume(const ScratchVolume&) = delete;
  ScratchVolume& operator=(const ScratchVolume&) = delete;

  // A fresh tmpfs of `kib` KiB; std::nullopt when it is mounted, else what the shell said.
  std::optional<std::string> mount(int kib) {
    auto failed =
        run("mkdir -p '" + unix_dir_ + "' && mount -t tmpfs -o size=" + std::to_string(kib) +
            "k tandem-fault '" + unix_dir_ + "'");
    if (!failed) mounted_ = true;
    return failed;
  }
  void set_read_only(bool read_only) {
    if (auto failed = run("mount -o remount," + std::string(read_only ? "ro" : "rw") + " '" +
                          unix_dir_ + "'")) {
      throw Error("remount of " + unix_dir_ + " failed: " + *failed);
    }
  }
  const std::filesystem::path& path() const { return windows_dir_; }

  // Runs `command` with /bin/sh; std::nullopt when it exits 0, else its exit status and stderr.
  std::optional<std::string> run(const std::string& command,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    const std::string name = "done-" + std::to_string(++count_);
    const std::string unix_markers = unix_dir_ + "-markers/";
    const std::filesystem::path marker = markers_ / name;
    std::error_code ignored;
    std::filesystem::remove(marker, ignored);
    // Armed before the command starts, so its marker cannot slip past the wait.
    win32::Handle change(
        FindFirstChangeNotificationW(markers_.c_str(), FALSE, FILE_NOTIFY_CHANGE_FILE_NAME));
    if (change.get() == INVALID_HANDLE_VALUE) change.release();
    if (!change) throw Error("FindFirstChangeNotificationW(" + path_utf8(markers_) + ") failed");
    std::string script = "(" + command + ") 2>'" + unix_markers + name + ".err'; echo $? >'" +
                         unix_markers + name + ".tmp'; mv '" + unix_markers + name + ".tmp' '" +
                         unix_markers + name + "'";
    std::string quoted;
    for (char c : script) quoted += c == '"' ? std::string("\\\"") : std::string(1, c);
    std::wstring line = win32::widen("Z:\\bin\\sh -c \"" + quoted + "\"");
    STARTUPINFOW si{};
    si.cb = sizeof(si);
    PROCESS_INFORMATION pi{};
    if (!CreateProcessW(nullptr, line.data(), nullptr, nullptr, FALSE, CREATE_NO_WINDOW, nullptr,
                        nullptr, &si, &pi)) {
      return "cannot start /bin/sh through Wine: error " + std::to_string(GetLastError());
    }
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!std::filesystem::exists(marker)) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) throw Error("/bin/sh -c '" + command + "' did not finish in time");
      WaitForSingleObject(change.get(), static_cast<DWORD>(left.count()));
      FindNextChangeNotification(change.get());
    }
    const std::string status = read_file(marker);
    if (std::stoi(status) == 0) return std::nullopt;
    auto errors = read_file_if_exists(markers_ / (name + ".err"));
    return "exit status " + status.substr(0, status.find('\n')) + ": " + errors.value_or("");
  }

 private:
  std::string unix_dir_;
  std::filesystem::path windows_dir_;
  std::filesystem::path markers_;
  bool mounted_ = false;
  int count_ = 0;
};

}  // namespace tandem::testing
