// Helpers for the job spool and checkpoint tests: a file system that fails on demand (full or
// read-only disk, a crash between two steps), and small file helpers.
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "common/error.h"
#include "common/files.h"
#include "common/spool/file_system.h"

namespace tandem::testing {

class FaultyFileSystem : public spool::FileSystem {
 public:
  // `flush_to_disk` false: appends stop at the OS (no fsync), for tests that append thousands
  // of times and are about what the file holds, not about power loss.
  explicit FaultyFileSystem(bool flush_to_disk = true) : flush_to_disk_(flush_to_disk) {}

  enum class Op { read, write_atomically, append, truncate, rename, create_directories, remove };

  // The next `times` operations `op` on a path containing `path_part` fail with `why`. A failing
  // append first writes `partial_bytes` of its content (a torn write); a failing
  // write_atomically leaves that much in the temporary file, as a crash would.
  void fail(Op op, std::string path_part = "", int times = 1, std::size_t partial_bytes = 0,
            std::string why = "No space left on device") {
    op_ = op;
    path_part_ = std::move(path_part);
    times_ = times;
    partial_bytes_ = partial_bytes;
    why_ = std::move(why);
  }
  void heal() { times_ = 0; }
  int failures() const { return failures_; }

  std::optional<std::string> read_if_exists(const std::filesystem::path& file) override {
    check(Op::read, file, "read");
    return real_.read_if_exists(file);
  }
  void write_atomically(const std::filesystem::path& file, std::string_view content) override {
    if (should_fail(Op::write_atomically, file)) {
      std::filesystem::path temp = file;
      temp += ".tmp";
      std::ofstream(temp, std::ios::binary) << content.substr(0, partial_bytes_);
      throw Error("cannot write " + path_utf8(temp) + ": " + why_);
    }
    real_.write_atomically(file, content);
  }
  void append(const std::filesystem::path& file, std::string_view content) override {
    if (should_fail(Op::append, file)) {
      if (partial_bytes_ > 0) real_.append(file, content.substr(0, partial_bytes_));
      throw Error("cannot append to " + path_utf8(file) + ": " + why_);
    }
    if (flush_to_disk_) {
      real_.append(file, content);
    } else {
      std::ofstream(file, std::ios::binary | std::ios::app) << content;
    }
  }
  void truncate(const std::filesystem::path& file, std::uintmax_t size) override {
    check(Op::truncate, file, "truncate");
    real_.truncate(file, size);
  }
  void rename(const std::filesystem::path& from, const std::filesystem::path& to) override {
    check(Op::rename, from, "move");
    real_.rename(from, to);
  }
  void create_directories(const std::filesystem::path& folder) override {
    check(Op::create_directories, folder, "create folder");
    real_.create_directories(folder);
  }
  void remove(const std::filesystem::path& file) override {
    check(Op::remove, file, "remove");
    real_.remove(file);
  }

 private:
  bool should_fail(Op op, const std::filesystem::path& file) {
    if (times_ == 0 || op != op_ || path_utf8(file).find(path_part_) == std::string::npos) {
      return false;
    }
    if (times_ > 0) --times_;
    ++failures_;
    return true;
  }
  void check(Op op, const std::filesystem::path& file, const char* what) {
    if (should_fail(op, file))
      throw Error(std::string("cannot ") + what + " " + path_utf8(file) + ": " + why_);
  }

  spool::FileSystem& real_ = spool::real_file_system();
  bool flush_to_disk_;
  Op op_ = Op::read;
  std::string path_part_;
  int times_ = 0;  // negative: every time
  std::size_t partial_bytes_ = 0;
  std::string why_;
  int failures_ = 0;
};

inline void write_text(const std::filesystem::path& file, const std::string& text) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << text;
}

inline std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Sets a file's modification time `seconds` before now, to order the inbox without waiting.
inline void age(const std::filesystem::path& file, int seconds) {
  std::filesystem::last_write_time(
      file, std::filesystem::file_time_type::clock::now() - std::chrono::seconds(seconds));
}

}  // namespace tandem::testing
