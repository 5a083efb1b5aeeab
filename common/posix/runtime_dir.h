// Where the Linux services publish themselves (docs/architecture.md#linux-runtime-folder): the
// runtime folder systemd makes for RuntimeDirectory=tandem, holding llm-server.json, llm.sock,
// trainer-status.json and trainer.sock.
#pragma once

#include <filesystem>

namespace tandem::posix {

inline constexpr const char* kLlmPublicationFile = "llm-server.json";
inline constexpr const char* kLlmSocket = "llm.sock";
inline constexpr const char* kTrainerStatusFile = "trainer-status.json";
inline constexpr const char* kTrainerSocket = "trainer.sock";

// TANDEM_RUNTIME_DIR (tests, a second instance), else the first folder of $RUNTIME_DIRECTORY
// (systemd sets it), else /run/tandem.
std::filesystem::path runtime_dir();

}  // namespace tandem::posix
