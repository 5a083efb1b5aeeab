// Whether the trainer may trust a jobs folder: a job file there runs as the trainer's account (a
// `command` job runs any program), so only Administrators, SYSTEM and the trainer's own account
// may own the folder or change what is in it. The facts come from the OS (win32/folder_facts.h,
// posix/folder_facts.h); the rule is here, one for both, tested natively with made-up facts.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace tandem {

// Who an owner or an entry names, as far as the rule cares.
enum class Principal {
  administrators,  // BUILTIN\Administrators
  system,          // NT AUTHORITY\SYSTEM (test and CI folders may be SYSTEM's); root on Linux
  this_service,    // the account the trainer runs as (it made the folder itself)
  creator_owner,   // CREATOR OWNER: whoever creates an entry, which needed a write right first
  other,
};

// One entry that allows something: an allow ACE, or Linux's group or others mode bits.
struct FolderGrant {
  std::string who;  // "BUILTIN\Users (S-1-5-32-545)", "group staff (gid 50)", "others"
  Principal principal = Principal::other;
  // The rights it allows that add, replace or delete entries, or change the folder's owner or
  // permissions, named ("FILE_ADD_FILE | WRITE_DAC", "write"); empty when it allows none.
  std::string write_rights;
};

struct FolderFacts {
  std::filesystem::path folder;
  std::string owner;  // "BUILTIN\Administrators (S-1-5-32-544)", "root (uid 0)"
  Principal owner_principal = Principal::other;
  // false: Windows' NULL DACL, which allows everyone everything.
  bool has_permissions = true;
  std::vector<FolderGrant> grants;
};

// Each reason `facts.folder` may not be trusted with jobs, naming the folder and the owner or
// entry at fault; empty when it may.
std::vector<std::string> folder_trust_problems(const FolderFacts& facts);

}  // namespace tandem
