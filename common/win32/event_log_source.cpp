#include "common/win32/event_log_source.h"

#include <windows.h>

#include "common/files.h"
#include "common/win32/registry.h"

namespace tandem::win32 {

void register_event_source(const std::string& source, const std::filesystem::path& message_file) {
  auto key =
      RegistryKey::create(HKEY_LOCAL_MACHINE, std::string(kEventLogApplicationKey) + "\\" + source,
                          KEY_SET_VALUE | KEY_QUERY_VALUE);
  key.set_expand_string("EventMessageFile", path_utf8(message_file));
  key.set_dword("TypesSupported",
                EVENTLOG_ERROR_TYPE | EVENTLOG_WARNING_TYPE | EVENTLOG_INFORMATION_TYPE);
}

void remove_event_source(const std::string& source) {
  RegistryKey::delete_tree(HKEY_LOCAL_MACHINE,
                           std::string(kEventLogApplicationKey) + "\\" + source);
}

}  // namespace tandem::win32
