// The per-service SID Windows gives each service ("NT SERVICE\<name>"): S-1-5-80 followed by
// the SHA-1 of the upper-cased UTF-16 name as five little-endian 32-bit parts. Computed here so
// installers and the services write the same ACEs before the account can be looked up (and on
// Wine, whose LookupAccountName does not know service accounts).
#pragma once

#include <string>
#include <string_view>

namespace tandem::win32 {

// "S-1-5-80-…" for a service name (case-insensitive, as the SCM treats names).
std::string service_sid(std::string_view service_name);

// Whether this process runs on Wine, which can run services only as LocalSystem (measured:
// `sc start` of a service with obj= "NT SERVICE\X" fails), so installers fall back to it there.
bool running_on_wine();

}  // namespace tandem::win32
