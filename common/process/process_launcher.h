// Running the user's own program for a `command` job, behind an interface so the job's logic
// (environment, restarts, checkpoint) is tested without processes. The Windows implementation,
// which puts the program in a Job Object, is win32::JobObjectLauncher
// (common/win32/child_process.h).
#pragma once

#include <functional>
#include <map>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace tandem {

struct ProcessSpec {
  // UTF-8. argv[0] is the program: an absolute path, a path relative to `working_dir`, or a bare
  // name searched the way the platform does (on Windows: CreateProcessW's search, then PATH).
  std::vector<std::string> argv;
  std::string working_dir;  // UTF-8; empty: the launcher's own
  // Added to the launcher's own environment, replacing variables of the same name.
  std::map<std::string, std::string> env;
};

enum class Stream { out, err };

inline std::string_view stream_name(Stream stream) {
  return stream == Stream::out ? "stdout" : "stderr";
}

// One line of the program's output, without its line ending. See LineSplitter for what a line
// is. Calls never overlap, and the lines of one stream arrive in order.
using LineCallback = std::function<void(Stream stream, std::string_view line)>;

struct ProcessExit {
  int exit_code = 0;
  bool stopped = false;  // ended because `stop` was requested, not by itself
};

class ProcessLauncher {
 public:
  virtual ~ProcessLauncher() = default;
  // Runs the program to its end, delivering its output as it comes. When `stop` is requested
  // (also before the call), the program and everything it started are ended and run() returns
  // within a few seconds with `stopped` set. Throws tandem::Error naming the program and the
  // reason when it cannot be started (not found, not executable, bad working folder).
  virtual ProcessExit run(const ProcessSpec& spec, const LineCallback& on_line,
                          std::stop_token stop) = 0;
};

}  // namespace tandem
