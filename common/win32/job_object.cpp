#include "common/win32/job_object.h"

#include "common/win32/error.h"

namespace tandem::win32 {

JobObject::JobObject(Handle handle, DWORD access, std::string what)
    : handle_(std::move(handle)), rights_(kJobObjectRights, access), what_(std::move(what)) {}

JobObject JobObject::create(std::string what) {
  Handle job(CreateJobObjectW(nullptr, nullptr));
  if (!job) throw_last_error("CreateJobObjectW(" + what + ")");
  return JobObject(std::move(job), JOB_OBJECT_ALL_ACCESS, std::move(what));
}

JobObject JobObject::with_rights(DWORD access) const {
  HANDLE copy = nullptr;
  if (!DuplicateHandle(GetCurrentProcess(), handle_.get(), GetCurrentProcess(), &copy, access,
                       FALSE, 0)) {
    throw_last_error("DuplicateHandle(" + what_ + ")");
  }
  return JobObject(Handle(copy), access, what_);
}

void JobObject::set_limits(JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits) const {
  const std::string call = "SetInformationJobObject(" + what_ + ", extended limits)";
  rights_.require(JOB_OBJECT_SET_ATTRIBUTES, call);
  if (!SetInformationJobObject(handle_.get(), JobObjectExtendedLimitInformation, &limits,
                               sizeof(limits))) {
    throw_last_error(call);
  }
}

void JobObject::assign(const Process& process) const {
  const std::string call = "AssignProcessToJobObject(" + what_ + ", " + process.what() + ")";
  rights_.require(JOB_OBJECT_ASSIGN_PROCESS, call + " on the job");
  process.rights().require(PROCESS_SET_QUOTA | PROCESS_TERMINATE, call + " on the process");
  if (!AssignProcessToJobObject(handle_.get(), process.get())) throw_last_error(call);
}

void JobObject::terminate(UINT exit_code) const {
  const std::string call = "TerminateJobObject(" + what_ + ")";
  rights_.require(JOB_OBJECT_TERMINATE, call);
  if (!TerminateJobObject(handle_.get(), exit_code)) throw_last_error(call);
}

}  // namespace tandem::win32
