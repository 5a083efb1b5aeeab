#include "common/win32/folder_facts.h"

#include <windows.h>

#include <aclapi.h>
#include <sddl.h>

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

std::vector<BYTE> token_user() {
  HANDLE raw = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &raw)) {
    throw_last_error("OpenProcessToken(TOKEN_QUERY)");
  }
  Handle token(raw);
  DWORD size = 0;
  GetTokenInformation(token.get(), TokenUser, nullptr, 0, &size);
  std::vector<BYTE> buffer(size);
  if (!GetTokenInformation(token.get(), TokenUser, buffer.data(), size, &size)) {
    throw_last_error("GetTokenInformation(TokenUser)");
  }
  return buffer;
}

Principal principal(PSID sid, PSID self) {
  if (IsWellKnownSid(sid, WinBuiltinAdministratorsSid)) return Principal::administrators;
  if (IsWellKnownSid(sid, WinLocalSystemSid)) return Principal::system;
  if (IsWellKnownSid(sid, WinCreatorOwnerSid)) return Principal::creator_owner;
  if (EqualSid(sid, self)) return Principal::this_service;
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
  const std::vector<BYTE> user = token_user();
  const PSID self = reinterpret_cast<const TOKEN_USER*>(user.data())->User.Sid;

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
