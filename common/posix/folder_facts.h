// A folder's owner and mode bits as the trainer's trust rule (common/folder_trust.h) reads them.
#pragma once

#include <filesystem>

#include "common/folder_trust.h"

namespace tandem::posix {

// stat() of `folder`: root or this process's user as owner, and the group's and others' write
// bits as the entries that may change what is in it (the owner's own bits are the owner's).
// tandem::Error naming the call and the folder.
FolderFacts read_folder_facts(const std::filesystem::path& folder);

}  // namespace tandem::posix
