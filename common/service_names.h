// The two services' names: the SCM keys, event sources and virtual accounts (NT SERVICE\<name>)
// all use them, so they are spelled once.
#pragma once

namespace tandem {

inline constexpr const char* kLlmServiceName = "TandemLlm";
inline constexpr const char* kTrainerServiceName = "TandemTrainer";

}  // namespace tandem
