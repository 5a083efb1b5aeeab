#include "common/files.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

#include "common/error.h"
#include "common/shared_read.h"

#ifdef _WIN32
#include <io.h>
#else
#include <fcntl.h>
#include <unistd.h>
#endif

namespace tandem {
namespace fs = std::filesystem;

std::string path_utf8(const fs::path& file) {
  auto u8 = file.u8string();
  return std::string(u8.begin(), u8.end());
}

fs::path path_from_utf8(std::string_view utf8) {
  return fs::path(std::u8string(utf8.begin(), utf8.end()));
}

std::optional<std::string> read_file_if_exists(const fs::path& file) {
  std::FILE* f = open_shared_for_reading(file);
  if (!f) {
    const int error = errno;
    std::error_code ec;
    if (!fs::exists(file, ec)) return std::nullopt;
    throw InputError(path_utf8(file), std::string("cannot open: ") + std::strerror(error));
  }
  std::string content;
  char buffer[65536];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, f)) > 0;) content.append(buffer, n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) throw InputError(path_utf8(file), "read failed");
  return content;
}

std::string read_file(const fs::path& file) {
  auto content = read_file_if_exists(file);
  if (!content) throw InputError(path_utf8(file), "file not found");
  return *content;
}

namespace {

// Where the stream is in its file, as the system has it (the stream is unbuffered).
long long file_position(std::FILE* f) {
#ifdef _WIN32
  return _ftelli64(f);
#else
  return static_cast<long long>(ftello(f));
#endif
}

// Writes (or appends) `content` and flushes it to the disk before returning.
void write_durably(const fs::path& file, std::string_view content, bool append) {
#ifdef _WIN32
  std::FILE* f = _wfopen(file.c_str(), append ? L"ab" : L"wb");
#else
  std::FILE* f = std::fopen(file.c_str(), append ? "ab" : "wb");
#endif
  if (!f) {
    throw WriteError(std::string(append ? "cannot open " : "cannot create ") + path_utf8(file) +
                     ": " + std::strerror(errno));
  }
  // Unbuffered, so the file position is the system's and a failure is seen where it happens.
  std::setvbuf(f, nullptr, _IONBF, 0);
  if (append) std::fseek(f, 0, SEEK_END);
  const long long start = file_position(f);
  errno = 0;
  std::size_t written = 0;
  bool ok = true;
  while (ok && written < content.size()) {
    const std::size_t n = std::fwrite(content.data() + written, 1, content.size() - written, f);
    written += n;
    if (n > 0) continue;
    // Wine's msvcrt reports a short write as a failure with errno from a stale GetLastError()
    // ("File exists", left by the open). The file position says how much did reach the file:
    // the rest is tried again, and a disk that is really full then fails with its own reason.
    const long long now = file_position(f);
    if (start >= 0 && now > start + static_cast<long long>(written) &&
        now <= start + static_cast<long long>(content.size())) {
      written = static_cast<std::size_t>(now - start);
      errno = 0;
      continue;
    }
    ok = false;
  }
  int saved = ok ? 0 : errno;
  ok = ok && std::fflush(f) == 0;
#ifdef _WIN32
  ok = ok && _commit(_fileno(f)) == 0;
#else
  ok = ok && ::fsync(fileno(f)) == 0;
#endif
  if (!ok && saved == 0) saved = errno;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok && saved == 0) saved = errno;
  if (!ok) {
    throw WriteError(std::string(append ? "cannot append to " : "cannot write ") + path_utf8(file) +
                     ": " + (saved != 0 ? std::strerror(saved) : "the system gave no reason"));
  }
}

}  // namespace

void append_file_durably(const fs::path& file, std::string_view content) {
  write_durably(file, content, true);
}

void write_file_atomically(const fs::path& file, std::string_view content) {
  fs::path temp = file;
  temp += ".tmp";
  try {
    write_durably(temp, content, false);
  } catch (const Error&) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw;
  }
  std::error_code ec;
  fs::rename(temp, file, ec);  // MoveFileExW(MOVEFILE_REPLACE_EXISTING) on Windows
  if (ec) {
    std::error_code ignored;  // the rename's reason is the one to report
    fs::remove(temp, ignored);
    throw WriteError("cannot replace " + path_utf8(file) + ": " + ec.message());
  }
}

}  // namespace tandem
