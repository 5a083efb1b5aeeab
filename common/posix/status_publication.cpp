#include "common/posix/status_publication.h"

#include "common/files.h"

namespace tandem::posix {
namespace {

std::filesystem::path in_created_folder(const std::filesystem::path& file) {
  std::filesystem::create_directories(file.parent_path());
  return file;
}

}  // namespace

StatusPublication::StatusPublication(const std::filesystem::path& file,
                                     const std::filesystem::path& socket,
                                     SocketServer::Handler handler)
    : file_(in_created_folder(file)), server_(socket, std::move(handler)) {}

void StatusPublication::write(std::string_view json) {
  write_file_atomically(file_, json);
}

}  // namespace tandem::posix
