#include "common/spool/layout.h"

#include <algorithm>
#include <cctype>

namespace tandem::spool {

std::string_view to_string(JobState state) {
  switch (state) {
    case JobState::queued:
      return "queued";
    case JobState::running:
      return "running";
    case JobState::done:
      return "done";
    case JobState::failed:
      return "failed";
  }
  return "queued";
}

std::filesystem::path state_folder(const std::filesystem::path& root, JobState state) {
  switch (state) {
    case JobState::queued:
      return root / "inbox";
    case JobState::running:
      return root / "active";
    case JobState::done:
      return root / "done";
    case JobState::failed:
      return root / "failed";
  }
  return root / "inbox";
}

std::filesystem::path job_path(const std::filesystem::path& folder, std::string_view name,
                               std::string_view suffix) {
  return folder / (std::string(name) + std::string(suffix));
}

bool is_spool_file(std::string_view file_name, std::string_view suffix) {
  if (file_name.empty() || file_name.front() == '.') return false;
  if (file_name.size() <= suffix.size()) return false;
  return std::equal(
      suffix.begin(), suffix.end(), file_name.end() - static_cast<std::ptrdiff_t>(suffix.size()),
      [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); });
}

}  // namespace tandem::spool
