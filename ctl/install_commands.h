// install, uninstall, configure-services: Windows only (the MSI's work, and the same for people
// without it); main_win.cpp gives them to the command table.
#pragma once

#include "ctl/cli.h"

namespace tandem::ctl {

int install_command(Args& args);
int uninstall_command(Args& args);
int configure_services_command(Args& args);

}  // namespace tandem::ctl
