#include "common/files.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

#include "common/error.h"

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

std::optional<std::string> read_file_if_exists(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!fs::exists(file, ec)) return std::nullopt;
    throw InputError(path_utf8(file), std::string("cannot open: ") + std::strerror(errno));
  }
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) throw InputError(path_utf8(file), "read failed");
  return std::move(out).str();
}

std::string read_file(const fs::path& file) {
  auto content = read_file_if_exists(file);
  if (!content) throw InputError(path_utf8(file), "file not found");
  return *content;
}

namespace {

// Writes (or appends) `content` and flushes it to the disk before returning.
void write_durably(const fs::path& file, std::string_view content, bool append) {
#ifdef _WIN32
  std::FILE* f = _wfopen(file.c_str(), append ? L"ab" : L"wb");
#else
  std::FILE* f = std::fopen(file.c_str(), append ? "ab" : "wb");
#endif
  if (!f) {
    throw Error(std::string(append ? "cannot open " : "cannot create ") + path_utf8(file) + ": " +
                std::strerror(errno));
  }
  bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  ok = ok && std::fflush(f) == 0;
#ifdef _WIN32
  ok = ok && _commit(_fileno(f)) == 0;
#else
  ok = ok && ::fsync(fileno(f)) == 0;
#endif
  int saved = errno;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    throw Error(std::string(append ? "cannot append to " : "cannot write ") + path_utf8(file) +
                ": " + std::strerror(saved ? saved : errno));
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
    fs::remove(temp, ec);
    throw Error("cannot replace " + path_utf8(file) + ": " + ec.message());
  }
}

}  // namespace tandem
