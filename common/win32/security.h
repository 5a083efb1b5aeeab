// Security descriptors written as SDDL, for the objects Tandem creates (pipes, registry keys,
// data folders).
#pragma once

#include <windows.h>

#include <aclapi.h>

#include <filesystem>
#include <memory>
#include <string>

namespace tandem::win32 {

// Memory the system allocated with LocalAlloc (descriptors, SDDL strings).
struct LocalFreer {
  void operator()(void* p) const { LocalFree(p); }
};
template <typename T>
using LocalPtr = std::unique_ptr<T, LocalFreer>;

// A SECURITY_ATTRIBUTES whose descriptor comes from an SDDL string and is freed with it.
class SecurityAttributes {
 public:
  // Throws Win32Error naming the call and the SDDL text when it does not parse.
  explicit SecurityAttributes(const std::string& sddl);
  // Not movable: attributes_ points into the descriptor this object owns.
  SecurityAttributes(const SecurityAttributes&) = delete;
  SecurityAttributes& operator=(const SecurityAttributes&) = delete;

  SECURITY_ATTRIBUTES* get() { return &attributes_; }
  PSECURITY_DESCRIPTOR descriptor() const { return descriptor_.get(); }
  const std::string& sddl() const { return sddl_; }

 private:
  std::string sddl_;
  LocalPtr<void> descriptor_;
  SECURITY_ATTRIBUTES attributes_{};
};

// Replaces the DACL of an existing object with the one in `security`, protected from
// inheritance, so a key made by an earlier run gets today's DACL too. `what` names the object
// in errors. Needs WRITE_DAC on `object`.
void apply_dacl(HANDLE object, SE_OBJECT_TYPE type, const SecurityAttributes& security,
                const std::string& what);

// Makes Administrators the owner of an existing folder (the data folders the installer creates
// or adopts), then applies `sddl`'s DACL to it, protected. A folder a standard user created
// first would otherwise stay theirs, and its owner may rewrite its DACL at any time. Taking
// ownership of a folder whose DACL grants the caller nothing needs SeTakeOwnershipPrivilege,
// which administrators and LocalSystem hold: it is enabled for the call. Win32Error naming the
// call and the folder.
void secure_folder(const std::filesystem::path& folder, const std::string& sddl);

// The object's DACL as SDDL ("D:P(A;;GA;;;SY)..."): for tests and diagnostics.
std::string dacl_sddl(HANDLE object, SE_OBJECT_TYPE type, const std::string& what);
// The parts asked for (OWNER_SECURITY_INFORMATION | ...) as SDDL ("O:BAD:P(...)").
std::string security_sddl(HANDLE object, SE_OBJECT_TYPE type, SECURITY_INFORMATION parts,
                          const std::string& what);

}  // namespace tandem::win32
