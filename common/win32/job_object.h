// A Job Object handle that knows the rights it was opened with (access.h) and checks, before
// each call, the rights Microsoft documents for it, on the job and on the process it is given.
#pragma once

#include <windows.h>

#include <string>

#include "common/win32/access.h"
#include "common/win32/handle.h"
#include "common/win32/process.h"

namespace tandem::win32 {

class JobObject {
 public:
  // CreateJobObjectW, unnamed: its handle has JOB_OBJECT_ALL_ACCESS, as documented. `what`
  // names it in errors.
  static JobObject create(std::string what);
  // The same job through a handle with `access` only (DuplicateHandle), as OpenJobObjectW would
  // give: what the checks are tested with.
  JobObject with_rights(DWORD access) const;

  HANDLE get() const { return handle_.get(); }
  const AccessRights& rights() const { return rights_; }

  // SetInformationJobObject(JobObjectExtendedLimitInformation); needs JOB_OBJECT_SET_ATTRIBUTES.
  void set_limits(JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits) const;
  // AssignProcessToJobObject; needs JOB_OBJECT_ASSIGN_PROCESS on the job and PROCESS_SET_QUOTA |
  // PROCESS_TERMINATE on the process.
  void assign(const Process& process) const;
  // TerminateJobObject; needs JOB_OBJECT_TERMINATE.
  void terminate(UINT exit_code) const;

 private:
  JobObject(Handle handle, DWORD access, std::string what);

  Handle handle_;
  AccessRights rights_;
  std::string what_;
};

}  // namespace tandem::win32
