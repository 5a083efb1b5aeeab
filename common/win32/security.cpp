#include "common/win32/security.h"

#include <sddl.h>

#include "common/files.h"
#include "common/win32/error.h"
#include "common/win32/handle.h"
#include "common/win32/strings.h"

namespace tandem::win32 {

SecurityAttributes::SecurityAttributes(const std::string& sddl) : sddl_(sddl) {
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(widen(sddl).c_str(), SDDL_REVISION_1,
                                                            &descriptor, nullptr)) {
    throw_last_error("ConvertStringSecurityDescriptorToSecurityDescriptorW(" + sddl + ")");
  }
  descriptor_.reset(descriptor);
  attributes_.nLength = sizeof(attributes_);
  attributes_.lpSecurityDescriptor = descriptor;
  attributes_.bInheritHandle = FALSE;
}

void apply_dacl(HANDLE object, SE_OBJECT_TYPE type, const SecurityAttributes& security,
                const std::string& what) {
  BOOL present = FALSE;
  BOOL defaulted = FALSE;
  PACL dacl = nullptr;
  if (!GetSecurityDescriptorDacl(security.descriptor(), &present, &dacl, &defaulted)) {
    throw_last_error("GetSecurityDescriptorDacl(" + security.sddl() + ")");
  }
  if (!present) throw Error("SDDL has no DACL to apply to " + what + ": " + security.sddl());
  DWORD rc =
      SetSecurityInfo(object, type, DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                      nullptr, nullptr, dacl, nullptr);
  if (rc != ERROR_SUCCESS) throw_error("SetSecurityInfo(" + what + ")", rc);
}

namespace {

// A privilege enabled in this process's token while it lives, as it was before afterwards.
class EnabledPrivilege {
 public:
  explicit EnabledPrivilege(const wchar_t* name) : name_(narrow(name)) {
    HANDLE token = nullptr;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, &token)) {
      throw_last_error("OpenProcessToken(" + name_ + ")");
    }
    token_.reset(token);
    TOKEN_PRIVILEGES wanted{};
    wanted.PrivilegeCount = 1;
    wanted.Privileges[0].Attributes = SE_PRIVILEGE_ENABLED;
    if (!LookupPrivilegeValueW(nullptr, name, &wanted.Privileges[0].Luid)) {
      throw_last_error("LookupPrivilegeValueW(" + name_ + ")");
    }
    DWORD size = sizeof(previous_);
    if (!AdjustTokenPrivileges(token_.get(), FALSE, &wanted, sizeof(previous_), &previous_,
                               &size)) {
      throw_last_error("AdjustTokenPrivileges(" + name_ + ")");
    }
    // Success with ERROR_NOT_ALL_ASSIGNED: the token does not hold it (not an administrator).
    if (GetLastError() == ERROR_NOT_ALL_ASSIGNED) {
      throw_error("AdjustTokenPrivileges(" + name_ + ")", ERROR_PRIVILEGE_NOT_HELD);
    }
  }
  ~EnabledPrivilege() {
    AdjustTokenPrivileges(token_.get(), FALSE, &previous_, 0, nullptr, nullptr);
  }
  EnabledPrivilege(const EnabledPrivilege&) = delete;
  EnabledPrivilege& operator=(const EnabledPrivilege&) = delete;

 private:
  std::string name_;
  Handle token_;
  TOKEN_PRIVILEGES previous_{};
};

FileHandle open_folder(const std::filesystem::path& folder, DWORD access) {
  // FILE_FLAG_BACKUP_SEMANTICS: the only way CreateFileW opens a folder.
  FileHandle handle(CreateFileW(folder.wstring().c_str(), access,
                                FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                                OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, nullptr));
  if (!handle) throw_last_error("CreateFileW(" + path_utf8(folder) + ")");
  return handle;
}

}  // namespace

void secure_folder(const std::filesystem::path& folder, const std::string& sddl) {
  const std::string what = path_utf8(folder);
  {
    // The owner first: as owner, Administrators may then write the DACL whatever it says.
    EnabledPrivilege take_ownership(SE_TAKE_OWNERSHIP_NAME);
    SecurityAttributes owner("O:BA");
    PSID sid = nullptr;
    BOOL defaulted = FALSE;
    if (!GetSecurityDescriptorOwner(owner.descriptor(), &sid, &defaulted)) {
      throw_last_error("GetSecurityDescriptorOwner(O:BA)");
    }
    FileHandle handle = open_folder(folder, WRITE_OWNER);
    const DWORD rc = SetSecurityInfo(handle.get(), SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, sid,
                                     nullptr, nullptr, nullptr);
    if (rc != ERROR_SUCCESS) throw_error("SetSecurityInfo(" + what + ", owner Administrators)", rc);
  }
  FileHandle handle = open_folder(folder, READ_CONTROL | WRITE_DAC);
  SecurityAttributes security(sddl);
  apply_dacl(handle.get(), SE_FILE_OBJECT, security, what);
}

std::string dacl_sddl(HANDLE object, SE_OBJECT_TYPE type, const std::string& what) {
  return security_sddl(object, type, DACL_SECURITY_INFORMATION, what);
}

std::string security_sddl(HANDLE object, SE_OBJECT_TYPE type, SECURITY_INFORMATION parts,
                          const std::string& what) {
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  DWORD rc = GetSecurityInfo(object, type, parts, nullptr, nullptr, nullptr, nullptr, &descriptor);
  if (rc != ERROR_SUCCESS) throw_error("GetSecurityInfo(" + what + ")", rc);
  LocalPtr<void> owned(descriptor);
  wchar_t* text = nullptr;
  if (!ConvertSecurityDescriptorToStringSecurityDescriptorW(descriptor, SDDL_REVISION_1, parts,
                                                            &text, nullptr)) {
    throw_last_error("ConvertSecurityDescriptorToStringSecurityDescriptorW(" + what + ")");
  }
  LocalPtr<wchar_t> owned_text(text);
  return narrow(text);
}

}  // namespace tandem::win32
