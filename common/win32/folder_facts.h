// A folder's owner and DACL as the trainer's trust rule (common/folder_trust.h) reads them.
#pragma once

#include <filesystem>

#include "common/folder_trust.h"

namespace tandem::win32 {

// Reads `folder`'s owner and DACL (GetNamedSecurityInfoW; READ_CONTROL, which the data folders'
// DACL gives the trainer through FRFX), with each allow ACE's write rights named. The trainer's
// own account is this process's token user or its service SID (S-1-5-80-…, in the token's
// groups when it runs as LocalSystem). Win32Error naming the call and the folder.
FolderFacts read_folder_facts(const std::filesystem::path& folder);

}  // namespace tandem::win32
