// The services' Event Log sources. Registering one writes under
// HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application, which only an administrator may:
// the installer (tandemctl install, the MSI's configure-services) does it, uninstall undoes it,
// and the services only open their source (log.cpp: Boost.Log with registration = never).
#pragma once

#include <filesystem>
#include <string>

namespace tandem::win32 {

inline constexpr const char* kEventLogApplicationKey =
    "SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application";

// `source`'s key with EventMessageFile = `message_file` (the service's .exe, which carries the
// message table: event_messages.mc) and TypesSupported = error | warning | information.
void register_event_source(const std::string& source, const std::filesystem::path& message_file);
// Removes `source`'s key; a missing one is not an error.
void remove_event_source(const std::string& source);

}  // namespace tandem::win32
