// The access rights a handle was opened with, kept with the handle, and the check each wrapper
// makes before a call against what Microsoft documents that call needs. Wine grants every right
// asked for and Windows does not: without this check a handle opened with too few rights passes
// the whole suite here and fails on the first real install (issue 17, docs/windows-contracts.md).
#pragma once

#include <windows.h>

#include <cstdint>
#include <span>
#include <string>

#include "common/win32/error.h"

namespace tandem::win32 {

// One specific right and its SDK name, for messages.
struct RightName {
  DWORD bit;
  const char* name;
};

// A kind of securable object: its rights' names and how GENERIC_* map onto them.
struct ObjectRights {
  const char* kind;  // "service", "registry key", ...
  std::span<const RightName> names;
  GENERIC_MAPPING generic;
};

extern const ObjectRights kServiceManagerRights;
extern const ObjectRights kServiceRights;
extern const ObjectRights kRegistryKeyRights;
extern const ObjectRights kFolderRights;
extern const ObjectRights kPipeRights;
extern const ObjectRights kProcessRights;
extern const ObjectRights kJobObjectRights;
extern const ObjectRights kThreadRights;
extern const ObjectRights kEventRights;

// Thrown instead of making a call the handle's rights do not cover; an access-denied Win32Error
// (code ERROR_ACCESS_DENIED), as Windows would answer, whose message names the call, the right
// missing and the rights the handle has.
class AccessRightMissing : public Win32Error {
 public:
  AccessRightMissing(const std::string& call, const std::string& missing,
                     const std::string& granted);
};

class AccessRights {
 public:
  AccessRights(const ObjectRights& object, DWORD requested);

  // Throws AccessRightMissing for `call` unless the handle was opened with every right in
  // `needed` (after mapping GENERIC_*). MAXIMUM_ALLOWED grants what the caller may have, which
  // cannot be known here: such a handle passes every check.
  void require(DWORD needed, const std::string& call) const;
  bool has(DWORD needed) const;
  DWORD granted() const { return granted_; }
  // "SERVICE_CHANGE_CONFIG | SERVICE_QUERY_CONFIG".
  std::string describe(DWORD mask) const;

 private:
  DWORD map(DWORD mask) const;

  const ObjectRights* object_;
  DWORD granted_;
  bool maximum_allowed_;
};

}  // namespace tandem::win32
