#include "common/shared_read.h"

namespace tandem {

std::FILE* open_shared_for_reading(const std::filesystem::path& file) {
  return std::fopen(file.c_str(), "rb");  // POSIX never blocks a rename over an open file
}

}  // namespace tandem
