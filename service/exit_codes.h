// TandemLlm's exit codes (the service-specific exit code under the SCM), so an administrator
// can tell failures apart in the Services console and SCM recovery applies to all of them.
#pragma once

namespace tandem::llm {

enum ExitCode : int {
  kExitOk = 0,
  kExitBadConfig = 2,      // llm-server.json (or the API key file) is invalid
  kExitPublishFailed = 3,  // the pipe name is taken (a squatter) or the registry refused us
  kExitNoPort = 4,         // no port in the configured range is free on both addresses
  kExitModelFailed = 5,    // the model could not be loaded or does not answer
  kExitNoBackend = 6,      // no ggml CPU backend module beside the executable runs on this CPU
  // A GPU failed while serving (lost, out of memory): recovery restarts the service, which loads
  // the model on the CPU if the GPU fails again.
  kExitGpuFailed = 7,
};

}  // namespace tandem::llm
