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

void apply_folder_dacl(const std::filesystem::path& folder, const std::string& sddl) {
  const std::string what = path_utf8(folder);
  // FILE_FLAG_BACKUP_SEMANTICS: the only way CreateFileW opens a folder.
  FileHandle handle(CreateFileW(folder.wstring().c_str(), READ_CONTROL | WRITE_DAC,
                                FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                                OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, nullptr));
  if (!handle) throw_last_error("CreateFileW(" + what + ")");
  SecurityAttributes security(sddl);
  apply_dacl(handle.get(), SE_FILE_OBJECT, security, what);
}

std::string dacl_sddl(HANDLE object, SE_OBJECT_TYPE type, const std::string& what) {
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  DWORD rc = GetSecurityInfo(object, type, DACL_SECURITY_INFORMATION, nullptr, nullptr, nullptr,
                             nullptr, &descriptor);
  if (rc != ERROR_SUCCESS) throw_error("GetSecurityInfo(" + what + ")", rc);
  LocalPtr<void> owned(descriptor);
  wchar_t* text = nullptr;
  if (!ConvertSecurityDescriptorToStringSecurityDescriptorW(
          descriptor, SDDL_REVISION_1, DACL_SECURITY_INFORMATION, &text, nullptr)) {
    throw_last_error("ConvertSecurityDescriptorToStringSecurityDescriptorW(" + what + ")");
  }
  LocalPtr<wchar_t> owned_text(text);
  return narrow(text);
}

}  // namespace tandem::win32
