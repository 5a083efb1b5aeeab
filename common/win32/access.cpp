#include "common/win32/access.h"

#include <cstdio>

namespace tandem::win32 {
namespace {

constexpr RightName kStandard[] = {
    {DELETE, "DELETE"},           {READ_CONTROL, "READ_CONTROL"}, {WRITE_DAC, "WRITE_DAC"},
    {WRITE_OWNER, "WRITE_OWNER"}, {SYNCHRONIZE, "SYNCHRONIZE"},
};

constexpr RightName kScManagerNames[] = {
    {SC_MANAGER_CONNECT, "SC_MANAGER_CONNECT"},
    {SC_MANAGER_CREATE_SERVICE, "SC_MANAGER_CREATE_SERVICE"},
    {SC_MANAGER_ENUMERATE_SERVICE, "SC_MANAGER_ENUMERATE_SERVICE"},
    {SC_MANAGER_LOCK, "SC_MANAGER_LOCK"},
    {SC_MANAGER_QUERY_LOCK_STATUS, "SC_MANAGER_QUERY_LOCK_STATUS"},
    {SC_MANAGER_MODIFY_BOOT_CONFIG, "SC_MANAGER_MODIFY_BOOT_CONFIG"},
};

constexpr RightName kServiceNames[] = {
    {SERVICE_QUERY_CONFIG, "SERVICE_QUERY_CONFIG"},
    {SERVICE_CHANGE_CONFIG, "SERVICE_CHANGE_CONFIG"},
    {SERVICE_QUERY_STATUS, "SERVICE_QUERY_STATUS"},
    {SERVICE_ENUMERATE_DEPENDENTS, "SERVICE_ENUMERATE_DEPENDENTS"},
    {SERVICE_START, "SERVICE_START"},
    {SERVICE_STOP, "SERVICE_STOP"},
    {SERVICE_PAUSE_CONTINUE, "SERVICE_PAUSE_CONTINUE"},
    {SERVICE_INTERROGATE, "SERVICE_INTERROGATE"},
    {SERVICE_USER_DEFINED_CONTROL, "SERVICE_USER_DEFINED_CONTROL"},
};

constexpr RightName kKeyNames[] = {
    {KEY_QUERY_VALUE, "KEY_QUERY_VALUE"},
    {KEY_SET_VALUE, "KEY_SET_VALUE"},
    {KEY_CREATE_SUB_KEY, "KEY_CREATE_SUB_KEY"},
    {KEY_ENUMERATE_SUB_KEYS, "KEY_ENUMERATE_SUB_KEYS"},
    {KEY_NOTIFY, "KEY_NOTIFY"},
    {KEY_CREATE_LINK, "KEY_CREATE_LINK"},
};

constexpr RightName kFolderNames[] = {
    {FILE_LIST_DIRECTORY, "FILE_LIST_DIRECTORY"},
    {FILE_ADD_FILE, "FILE_ADD_FILE"},
    {FILE_ADD_SUBDIRECTORY, "FILE_ADD_SUBDIRECTORY"},
    {FILE_READ_EA, "FILE_READ_EA"},
    {FILE_WRITE_EA, "FILE_WRITE_EA"},
    {FILE_TRAVERSE, "FILE_TRAVERSE"},
    {FILE_DELETE_CHILD, "FILE_DELETE_CHILD"},
    {FILE_READ_ATTRIBUTES, "FILE_READ_ATTRIBUTES"},
    {FILE_WRITE_ATTRIBUTES, "FILE_WRITE_ATTRIBUTES"},
};

// A pipe's rights are a file's; bit 4 is FILE_CREATE_PIPE_INSTANCE on a pipe.
constexpr RightName kPipeNames[] = {
    {FILE_READ_DATA, "FILE_READ_DATA"},
    {FILE_WRITE_DATA, "FILE_WRITE_DATA"},
    {FILE_CREATE_PIPE_INSTANCE, "FILE_CREATE_PIPE_INSTANCE"},
    {FILE_READ_EA, "FILE_READ_EA"},
    {FILE_WRITE_EA, "FILE_WRITE_EA"},
    {FILE_READ_ATTRIBUTES, "FILE_READ_ATTRIBUTES"},
    {FILE_WRITE_ATTRIBUTES, "FILE_WRITE_ATTRIBUTES"},
};

constexpr RightName kProcessNames[] = {
    {PROCESS_TERMINATE, "PROCESS_TERMINATE"},
    {PROCESS_CREATE_THREAD, "PROCESS_CREATE_THREAD"},
    {PROCESS_VM_OPERATION, "PROCESS_VM_OPERATION"},
    {PROCESS_VM_READ, "PROCESS_VM_READ"},
    {PROCESS_VM_WRITE, "PROCESS_VM_WRITE"},
    {PROCESS_DUP_HANDLE, "PROCESS_DUP_HANDLE"},
    {PROCESS_CREATE_PROCESS, "PROCESS_CREATE_PROCESS"},
    {PROCESS_SET_QUOTA, "PROCESS_SET_QUOTA"},
    {PROCESS_SET_INFORMATION, "PROCESS_SET_INFORMATION"},
    {PROCESS_QUERY_INFORMATION, "PROCESS_QUERY_INFORMATION"},
    {PROCESS_SUSPEND_RESUME, "PROCESS_SUSPEND_RESUME"},
    {PROCESS_QUERY_LIMITED_INFORMATION, "PROCESS_QUERY_LIMITED_INFORMATION"},
};

constexpr RightName kJobObjectNames[] = {
    {JOB_OBJECT_ASSIGN_PROCESS, "JOB_OBJECT_ASSIGN_PROCESS"},
    {JOB_OBJECT_SET_ATTRIBUTES, "JOB_OBJECT_SET_ATTRIBUTES"},
    {JOB_OBJECT_QUERY, "JOB_OBJECT_QUERY"},
    {JOB_OBJECT_TERMINATE, "JOB_OBJECT_TERMINATE"},
    {JOB_OBJECT_SET_SECURITY_ATTRIBUTES, "JOB_OBJECT_SET_SECURITY_ATTRIBUTES"},
};

constexpr RightName kThreadNames[] = {
    {THREAD_TERMINATE, "THREAD_TERMINATE"},
    {THREAD_SUSPEND_RESUME, "THREAD_SUSPEND_RESUME"},
    {THREAD_GET_CONTEXT, "THREAD_GET_CONTEXT"},
    {THREAD_SET_CONTEXT, "THREAD_SET_CONTEXT"},
    {THREAD_SET_INFORMATION, "THREAD_SET_INFORMATION"},
    {THREAD_QUERY_INFORMATION, "THREAD_QUERY_INFORMATION"},
    {THREAD_SET_THREAD_TOKEN, "THREAD_SET_THREAD_TOKEN"},
    {THREAD_IMPERSONATE, "THREAD_IMPERSONATE"},
    {THREAD_DIRECT_IMPERSONATION, "THREAD_DIRECT_IMPERSONATION"},
    {THREAD_SET_LIMITED_INFORMATION, "THREAD_SET_LIMITED_INFORMATION"},
    {THREAD_QUERY_LIMITED_INFORMATION, "THREAD_QUERY_LIMITED_INFORMATION"},
};

constexpr RightName kEventNames[] = {
    {0x0001, "EVENT_QUERY_STATE"},
    {EVENT_MODIFY_STATE, "EVENT_MODIFY_STATE"},
};

}  // namespace

// The generic mappings are the ones "Service Security and Access Rights" and "Registry Key
// Security and Access Rights" document.
const ObjectRights kServiceManagerRights{
    "service control manager",
    kScManagerNames,
    {STANDARD_RIGHTS_READ | SC_MANAGER_ENUMERATE_SERVICE | SC_MANAGER_QUERY_LOCK_STATUS,
     STANDARD_RIGHTS_WRITE | SC_MANAGER_CREATE_SERVICE | SC_MANAGER_MODIFY_BOOT_CONFIG,
     STANDARD_RIGHTS_EXECUTE | SC_MANAGER_CONNECT | SC_MANAGER_LOCK, SC_MANAGER_ALL_ACCESS}};

const ObjectRights kServiceRights{
    "service",
    kServiceNames,
    {STANDARD_RIGHTS_READ | SERVICE_QUERY_CONFIG | SERVICE_QUERY_STATUS | SERVICE_INTERROGATE |
         SERVICE_ENUMERATE_DEPENDENTS,
     STANDARD_RIGHTS_WRITE | SERVICE_CHANGE_CONFIG,
     STANDARD_RIGHTS_EXECUTE | SERVICE_START | SERVICE_STOP | SERVICE_PAUSE_CONTINUE |
         SERVICE_USER_DEFINED_CONTROL,
     SERVICE_ALL_ACCESS}};

const ObjectRights kRegistryKeyRights{
    "registry key", kKeyNames, {KEY_READ, KEY_WRITE, KEY_EXECUTE, KEY_ALL_ACCESS}};

// "File Security and Access Rights" (FILE_GENERIC_*), which pipes share.
const ObjectRights kFolderRights{
    "folder",
    kFolderNames,
    {FILE_GENERIC_READ, FILE_GENERIC_WRITE, FILE_GENERIC_EXECUTE, FILE_ALL_ACCESS}};
const ObjectRights kPipeRights{
    "pipe",
    kPipeNames,
    {FILE_GENERIC_READ, FILE_GENERIC_WRITE, FILE_GENERIC_EXECUTE, FILE_ALL_ACCESS}};

// Processes, job objects, threads and events are never opened here with GENERIC_* rights; their
// mappings are the kernel's (Windows Internals), which the rights pages do not list.
const ObjectRights kProcessRights{
    "process",
    kProcessNames,
    {STANDARD_RIGHTS_READ | PROCESS_VM_READ | PROCESS_QUERY_INFORMATION |
         PROCESS_QUERY_LIMITED_INFORMATION,
     STANDARD_RIGHTS_WRITE | PROCESS_CREATE_PROCESS | PROCESS_CREATE_THREAD | PROCESS_VM_OPERATION |
         PROCESS_VM_WRITE | PROCESS_DUP_HANDLE | PROCESS_TERMINATE | PROCESS_SET_QUOTA |
         PROCESS_SET_INFORMATION | PROCESS_SUSPEND_RESUME,
     STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION,
     PROCESS_ALL_ACCESS}};
const ObjectRights kJobObjectRights{"job object",
                                    kJobObjectNames,
                                    {STANDARD_RIGHTS_READ | JOB_OBJECT_QUERY,
                                     STANDARD_RIGHTS_WRITE | JOB_OBJECT_ASSIGN_PROCESS |
                                         JOB_OBJECT_SET_ATTRIBUTES | JOB_OBJECT_TERMINATE,
                                     STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE, JOB_OBJECT_ALL_ACCESS}};

const ObjectRights kThreadRights{
    "thread",
    kThreadNames,
    {STANDARD_RIGHTS_READ | THREAD_GET_CONTEXT | THREAD_QUERY_INFORMATION,
     STANDARD_RIGHTS_WRITE | THREAD_TERMINATE | THREAD_SUSPEND_RESUME | THREAD_SET_INFORMATION |
         THREAD_SET_CONTEXT,
     STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE | THREAD_QUERY_LIMITED_INFORMATION, THREAD_ALL_ACCESS}};
const ObjectRights kEventRights{
    "event",
    kEventNames,
    {STANDARD_RIGHTS_READ | 0x0001, STANDARD_RIGHTS_WRITE | EVENT_MODIFY_STATE,
     STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE, EVENT_ALL_ACCESS}};

AccessRightMissing::AccessRightMissing(const std::string& call, const std::string& missing,
                                       const std::string& granted)
    : Win32Error(ERROR_ACCESS_DENIED,
                 call + " needs " + missing + ", which its handle was not opened with (it has " +
                     granted + "); Windows refuses such a call with access denied") {}

AccessRights::AccessRights(const ObjectRights& object, DWORD requested)
    : object_(&object), granted_(0), maximum_allowed_((requested & MAXIMUM_ALLOWED) != 0) {
  granted_ = map(requested & ~static_cast<DWORD>(MAXIMUM_ALLOWED));
}

DWORD AccessRights::map(DWORD mask) const {
  GENERIC_MAPPING generic = object_->generic;
  MapGenericMask(&mask, &generic);
  // MapGenericMask leaves the generic bits set beside what they map to.
  return mask & ~static_cast<DWORD>(GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL);
}

bool AccessRights::has(DWORD needed) const {
  return maximum_allowed_ || (map(needed) & ~granted_) == 0;
}

void AccessRights::require(DWORD needed, const std::string& call) const {
  if (has(needed)) return;
  throw AccessRightMissing(call, describe(map(needed) & ~granted_), describe(granted_));
}

std::string AccessRights::describe(DWORD mask) const {
  std::string out;
  auto add = [&](const RightName& right) {
    if ((mask & right.bit) != right.bit) return;
    if (!out.empty()) out += " | ";
    out += right.name;
    mask &= ~right.bit;
  };
  for (const auto& right : object_->names) add(right);
  for (const auto& right : kStandard) add(right);
  if (mask != 0) {
    if (!out.empty()) out += " | ";
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%lx", static_cast<unsigned long>(mask));
    out += hex;
  }
  return out.empty() ? std::string("no rights") : out;
}

}  // namespace tandem::win32
