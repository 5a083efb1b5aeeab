// One function per tandemctl command; each reads its own words from Args and returns an exit
// code from cli.h. Failures throw (UsageError, tandem::Error, Win32Error): main turns each into
// one line on stderr and its exit code.
#pragma once

#include "ctl/cli.h"

namespace tandem::ctl {

// query_commands.cpp
int status_command(Args& args);
int url_command(Args& args);
int wait_command(Args& args);

// control_commands.cpp
int start_command(Args& args);
int stop_command(Args& args);
int restart_command(Args& args);

// job_commands.cpp
int submit_command(Args& args);
int jobs_command(Args& args);
int logs_command(Args& args);

// install_commands.cpp
int install_command(Args& args);
int uninstall_command(Args& args);
int configure_services_command(Args& args);

}  // namespace tandem::ctl
