// One function per tandemctl command; each reads its own words from Args, works through the
// Platform's interfaces and returns an exit code from cli.h. Failures throw (UsageError,
// tandem::Error, SystemError): run_tandemctl turns each into one line and its exit code.
#pragma once

#include <optional>

#include "ctl/cli.h"
#include "ctl/platform.h"

namespace tandem::ctl {

// query_commands.cpp
// The live, verified endpoint; none (and the reason on p.err) when there is none.
std::optional<discovery::Endpoint> live_endpoint(Platform& p);
int status_command(Args& args, Platform& p);
int url_command(Args& args, Platform& p);
int wait_command(Args& args, Platform& p);

// model_commands.cpp
int models_command(Args& args, Platform& p);

// control_commands.cpp
int start_command(Args& args, Platform& p);
int stop_command(Args& args, Platform& p);
int restart_command(Args& args, Platform& p);

// job_commands.cpp
int submit_command(Args& args, Platform& p);
int jobs_command(Args& args, Platform& p);
int logs_command(Args& args, Platform& p);

}  // namespace tandem::ctl
