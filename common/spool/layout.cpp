#include "common/spool/layout.h"

#include <algorithm>
#include <cctype>

namespace tandem::spool {

namespace {

// By JobState: what `tandemctl jobs` calls it, and its folder.
struct StateNames {
  std::string_view state;
  std::string_view folder;
};
constexpr StateNames kNames[] = {
    {"queued", "inbox"}, {"running", "active"}, {"done", "done"}, {"failed", "failed"}};

const StateNames& names(JobState state) {
  return kNames[static_cast<std::size_t>(state)];
}

}  // namespace

std::string_view to_string(JobState state) {
  return names(state).state;
}

std::filesystem::path state_folder(const std::filesystem::path& root, JobState state) {
  return root / names(state).folder;
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
