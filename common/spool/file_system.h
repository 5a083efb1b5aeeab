// The few file operations the job spool and checkpoints perform, behind an interface so tests
// can make any of them fail the way a full or read-only disk would. Every failure throws
// tandem::Error naming the file and the reason.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace tandem::spool {

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Whole file; std::nullopt when it does not exist.
  virtual std::optional<std::string> read_if_exists(const std::filesystem::path& file) = 0;
  // Temp sibling, flush to disk, rename over `file`: readers see the old or the new content.
  virtual void write_atomically(const std::filesystem::path& file, std::string_view content) = 0;
  // Appends and flushes to disk before returning; creates the file if needed. On failure part
  // of `content` may have reached the file (a torn tail), as after a crash.
  virtual void append(const std::filesystem::path& file, std::string_view content) = 0;
  // Cuts the file to `size` bytes (used to drop a torn tail).
  virtual void truncate(const std::filesystem::path& file, std::uintmax_t size) = 0;
  // Renames a file or a folder; the target must not exist (callers check).
  virtual void rename(const std::filesystem::path& from, const std::filesystem::path& to) = 0;
  virtual void create_directories(const std::filesystem::path& folder) = 0;
  // Removes a file or an empty folder; absent is fine.
  virtual void remove(const std::filesystem::path& file) = 0;
};

// The real disk.
FileSystem& real_file_system();

}  // namespace tandem::spool
