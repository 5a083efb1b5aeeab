#include "common/spool/file_system.h"

#include <system_error>

#include "common/error.h"
#include "common/files.h"

namespace tandem::spool {
namespace fs = std::filesystem;
namespace {

[[noreturn]] void fail(const std::string& what, const fs::path& file, const std::string& why) {
  throw WriteError("cannot " + what + " " + path_utf8(file) + ": " + why);
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
    tandem::append_file_durably(file, content);
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

}  // namespace tandem::spool
