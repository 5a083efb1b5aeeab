#include "common/win32/folder_facts.h"

#include <windows.h>

#include <aclapi.h>
#include <sddl.h>

#include <algorithm>
#include <iterator>
#include <vector>

#include "common/files.h"
#include "common/win32/access.h"
#include "common/win32/error.h"
#include "common/win32/handle.h"
#include "common/win32/security.h"
#include "common/win32/strings.h"

namespace tandem::win32 {
namespace {

// What lets someone put a job in the folder, remove one, or take the folder over; on a folder
// FILE_ADD_FILE is FILE_WRITE_DATA's bit and FILE_ADD_SUBDIRECTORY FILE_APPEND_DATA's, so the
// same bits cover the files an inheritable ACE reaches.
constexpr DWORD kWriteRights =
    FILE_ADD_FILE | FILE_ADD_SUBDIRECTORY | FILE_DELETE_CHILD | DELETE | WRITE_DAC | WRITE_OWNER;

std::vector<BYTE> token_information(HANDLE token, TOKEN_INFORMATION_CLASS kind, const char* name) {
  DWORD size = 0;
  GetTokenInformation(token, kind, nullptr, 0, &size);  // fails, telling the size
  std::vector<BYTE> buffer(size);
  if (size == 0 || !GetTokenInformation(token, kind, buffer.data(), size, &size)) {
    throw_last_error(std::string("GetTokenInformation(") + name + ")");
  }
  return buffer;
}

// Who "the trainer's own account" is: its token's user (NT SERVICE\TandemTrainer under its
// virtual account) and its service SID, which Windows adds to the groups of a service running as
// LocalSystem with an unrestricted SID type: the data folders' DACL names the service SID.
class OwnAccount {
 public:
  OwnAccount() {
    HANDLE raw = nullptr;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &raw)) {
      throw_last_error("OpenProcessToken(TOKEN_QUERY)");
    }
    const Handle token(raw);
    user_ = token_information(token.get(), TokenUser, "TokenUser");
    groups_ = token_information(token.get(), TokenGroups, "TokenGroups");
  }

  bool is(PSID sid) const {
    if (EqualSid(sid, reinterpret_cast<const TOKEN_USER*>(user_.data())->User.Sid)) return true;
    const auto* groups = reinterpret_cast<const TOKEN_GROUPS*>(groups_.data());
    for (DWORD i = 0; i < groups->GroupCount; ++i) {
      const SID_AND_ATTRIBUTES& group = groups->Groups[i];
      if ((group.Attributes & SE_GROUP_ENABLED) != 0 && is_service_sid(group.Sid) &&
          EqualSid(sid, group.Sid)) {
        return true;
      }
    }
    return false;
  }

 private:
  // S-1-5-80-…: NT SERVICE\<name>.
  static bool is_service_sid(PSID sid) {
    const SID_IDENTIFIER_AUTHORITY nt = SECURITY_NT_AUTHORITY;
    const SID_IDENTIFIER_AUTHORITY* authority = GetSidIdentifierAuthority(sid);
    return std::equal(std::begin(nt.Value), std::end(nt.Value), std::begin(authority->Value)) &&
           *GetSidSubAuthorityCount(sid) > 0 &&
           *GetSidSubAuthority(sid, 0) == SECURITY_SERVICE_ID_BASE_RID;
  }

  std::vector<BYTE> user_;
  std::vector<BYTE> groups_;
};

Principal principal(PSID sid, const OwnAccount& self) {
  if (IsWellKnownSid(sid, WinBuiltinAdministratorsSid)) return Principal::administrators;
  if (IsWellKnownSid(sid, WinLocalSystemSid)) return Principal::system;
  if (IsWellKnownSid(sid, WinCreatorOwnerSid)) return Principal::creator_owner;
  if (self.is(sid)) return Principal::this_service;
  return Principal::other;
}

// "BUILTIN\Users (S-1-5-32-545)"; the SID alone when it has no name here.
std::string name(PSID sid) {
  std::string text = "?";
  wchar_t* sid_text = nullptr;
  if (ConvertSidToStringSidW(sid, &sid_text)) {
    LocalPtr<wchar_t> owned(sid_text);
    text = narrow(sid_text);
  }
  wchar_t account[256];
  wchar_t domain[256];
  DWORD account_size = 256;
  DWORD domain_size = 256;
  SID_NAME_USE use;
  if (!LookupAccountSidW(nullptr, sid, account, &account_size, domain, &domain_size, &use)) {
    return text;
  }
  const std::string who =
      domain_size > 0 ? narrow(domain) + "\\" + narrow(account) : narrow(account);
  return who + " (" + text + ")";
}

}  // namespace

FolderFacts read_folder_facts(const std::filesystem::path& folder) {
  FolderFacts facts;
  facts.folder = folder;
  PSID owner = nullptr;
  PACL dacl = nullptr;
  PSECURITY_DESCRIPTOR raw = nullptr;
  const DWORD rc = GetNamedSecurityInfoW(folder.wstring().c_str(), SE_FILE_OBJECT,
                                         OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
                                         &owner, nullptr, &dacl, nullptr, &raw);
  if (rc != ERROR_SUCCESS) throw_error("GetNamedSecurityInfoW(" + path_utf8(folder) + ")", rc);
  LocalPtr<void> descriptor(raw);
  const OwnAccount self;

  if (owner == nullptr) {
    facts.owner = "nobody (the descriptor has no owner)";
  } else {
    facts.owner = name(owner);
    facts.owner_principal = principal(owner, self);
  }
  facts.has_permissions = dacl != nullptr;
  if (dacl == nullptr) return facts;
  for (DWORD i = 0; i < dacl->AceCount; ++i) {
    void* ace = nullptr;
    if (!GetAce(dacl, i, &ace)) throw_last_error("GetAce(" + path_utf8(folder) + ")");
    const auto* header = static_cast<const ACE_HEADER*>(ace);
    // Deny ACEs only take away; audit ACEs are not in a DACL.
    if (header->AceType != ACCESS_ALLOWED_ACE_TYPE &&
        header->AceType != ACCESS_ALLOWED_CALLBACK_ACE_TYPE) {
      continue;
    }
    const auto* allowed = static_cast<const ACCESS_ALLOWED_ACE*>(ace);
    PSID sid = const_cast<DWORD*>(&allowed->SidStart);
    const AccessRights rights(kFolderRights, allowed->Mask);
    FolderGrant grant;
    grant.who = name(sid);
    grant.principal = principal(sid, self);
    if ((rights.granted() & kWriteRights) != 0) {
      grant.write_rights = rights.describe(rights.granted() & kWriteRights);
    }
    facts.grants.push_back(std::move(grant));
  }
  return facts;
}

}  // namespace tandem::win32
