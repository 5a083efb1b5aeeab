#include "trainer/jobs/file_system.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>

#include "common/error.h"
#include "common/files.h"

#ifdef _WIN32
#include <io.h>
#else
#include <unistd.h>
#endif

namespace tandem::jobs {
namespace fs = std::filesystem;
namespace {

[[noreturn]] void fail(const std::string& what, const fs::path& file, const std::string& why) {
  throw Error("cannot " + what + " " + path_utf8(file) + ": " + why);
}

class RealFileSystem final : public FileSystem {
 public:
  std::optional<std::string> read_if_exists(const fs::path& file) override {
    return tandem::read_file_if_exists(file);
  }

  void write_atomically(const fs::path& file, std::string_view content) override {
    tandem::write_file_atomically(file, content);
  }

  void append(const fs::path& file, std::string_view content) override {
#ifdef _WIN32
    std::FILE* f = _wfopen(file.c_str(), L"ab");
#else
    std::FILE* f = std::fopen(file.c_str(), "ab");
#endif
    if (!f) fail("open", file, std::strerror(errno));
    bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
    ok = ok && std::fflush(f) == 0;
#ifdef _WIN32
    ok = ok && _commit(_fileno(f)) == 0;
#else
    ok = ok && ::fsync(fileno(f)) == 0;
#endif
    int saved = errno;
    ok = (std::fclose(f) == 0) && ok;
    if (!ok) fail("append to", file, std::strerror(saved ? saved : errno));
  }

  void truncate(const fs::path& file, std::uintmax_t size) override {
    std::error_code ec;
    fs::resize_file(file, size, ec);
    if (ec) fail("truncate", file, ec.message());
  }

  void rename(const fs::path& from, const fs::path& to) override {
    std::error_code ec;
    fs::rename(from, to, ec);
    if (ec) fail("move", from, "to " + path_utf8(to) + ": " + ec.message());
  }

  void create_directories(const fs::path& folder) override {
    std::error_code ec;
    fs::create_directories(folder, ec);
    if (ec) fail("create folder", folder, ec.message());
  }

  void remove(const fs::path& file) override {
    std::error_code ec;
    fs::remove(file, ec);
    if (ec) fail("remove", file, ec.message());
  }
};

}  // namespace

FileSystem& real_file_system() {
  static RealFileSystem instance;
  return instance;
}

}  // namespace tandem::jobs
